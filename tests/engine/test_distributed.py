"""Two CPU processes (gloo) through ``accelerate launch`` end with identical adapter weights, and their
sharded reference pass gives the cache of a single process; every shipped accelerate config (DDP, FSDP,
DeepSpeed ZeRO-2 and ZeRO-3) trains, validates, keeps and saves the same adapter."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training.engine.trainer import REFERENCE_CACHE, VALIDATION_REFERENCE_CACHE, build_trainer

from .ddp_train import ddp_config

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nobody listens on, so the rendezvous never collides with another run's default 29500."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_two_processes(tmp_path, model_dir: str, data: str, budget: int | None = None, **overrides) -> list[dict]:
    """Run ddp_train.py in two CPU processes; each one's LoRA weights and reference batch count."""
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("accelerate CLI not installed")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", TQDM_DISABLE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # "--cpu" would start one process (multi-CPU there means MPI); "--multi_gpu" starts torchrun, and with
    # use_cpu=True (ddp_train.py) the two processes form a gloo group on the CPU.
    command = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--main_process_port", str(free_port()),
               "--mixed_precision", "no", "--dynamo_backend", "no", str(ROOT / "tests/engine/ddp_train.py"),
               model_dir, data, str(tmp_path), str(budget) if budget else "-", json.dumps(overrides)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{i}.pt") for i in range(2)]
    assert all(r["world_size"] == 2 for r in ranks)
    return ranks


@pytest.mark.slow
@pytest.mark.parametrize("budget", [None, 400], ids=["by-prompts", "token-budget"])
def test_two_process_cpu_training_keeps_adapters_identical(tmp_path, tiny_model_dir, vowel_data, budget):
    ranks = launch_two_processes(tmp_path, tiny_model_dir, vowel_data, budget)
    first, second = ranks[0]["weights"], ranks[1]["weights"]
    assert first and first.keys() == second.keys()
    assert any(first[name].abs().sum() > 0 for name in first if "lora_B" in name), "adapter did not train"
    for name in first:
        assert torch.equal(first[name], second[name]), name
    # sharded reference pass: each process scored half of the batches, and the gathered cache
    # equals the one a single process computes
    single = tmp_path / "single"
    trainer, _ = build_trainer(ddp_config(tiny_model_dir, vowel_data, str(single), budget))
    batches = len(trainer._batches(trainer.train_dataset))
    validation = len(trainer._batches(trainer.validation_dataset, trainer.args.ref_batch_size))  # scored sharded too
    assert batches > 2 and validation > 0
    assert [r["reference_batches"] for r in ranks] == [(batches + 1) // 2 + (validation + 1) // 2,
                                                       batches // 2 + validation // 2]
    sharded = json.loads((tmp_path / REFERENCE_CACHE).read_text())
    assert sharded == json.loads((single / REFERENCE_CACHE).read_text())


@pytest.mark.slow
def test_two_processes_take_the_same_first_step_as_one_over_the_same_groups(tmp_path, tiny_model_dir, vowel_data):
    # SGD without clipping: the update is the gradient; one accumulation window covers every group in both runs
    # (2 processes x 12 micro-batches of 2 prompts, or 24 in one); the LoRA initialisation follows the seed
    step = {"max_steps": 1, "optim": "sgd", "learning_rate": 1.0, "max_grad_norm": 0.0, "lora_dropout": 0.0,
            "gradient_accumulation_steps": 32, "weighting": "quadratic",
            "validation_fraction": 0.0}  # all 48 train groups: an even split, no group repeated to fill a process
    two = launch_two_processes(tmp_path / "two", tiny_model_dir, vowel_data, None, **step)[0]["weights"]
    trainer, _ = build_trainer(ddp_config(tiny_model_dir, vowel_data, str(tmp_path / "one"), None, **step))
    initial = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if n in two}
    trainer.train()
    one = {n: p.detach() for n, p in trainer.model.named_parameters() if n in two}
    update_one = torch.cat([(one[n] - initial[n]).flatten() for n in sorted(two)])
    update_two = torch.cat([(two[n] - initial[n]).flatten() for n in sorted(two)])
    assert update_one.norm() > 0
    assert (update_two - update_one).norm() <= 1e-5 * update_one.norm()


# what each shipped config needs on CPUs (its GPU-only options off); everything else is the shipped file
ON_CPU = {
    "ddp.yaml": ["--mixed_precision", "no"],
    "fsdp.yaml": ["--mixed_precision", "no", "--fsdp_sync_module_states", "false"],
    "deepspeed-zero2.yaml": ["--mixed_precision", "no"],
    "deepspeed-zero3.yaml": ["--mixed_precision", "no"],
}
SHARDING_CONFIGS = sorted(set(ON_CPU) - {"ddp.yaml"})
# one SGD step over every group without clipping: the update is the gradient, comparable across launches
FIRST_STEP = {"max_steps": 1, "optim": "sgd", "learning_rate": 1.0, "max_grad_norm": 0.0, "lora_dropout": 0.0,
              "gradient_accumulation_steps": 32, "weighting": "quadratic", "validation_fraction": 0.0,
              "per_device_train_batch_size": 2, "lora_r": 4, "max_length": 64, "max_prompt_length": 32,
              "quantization": "none", "use_cpu": "true", "save_strategy": "no", "disable_tqdm": "true"}
# four steps validated after each: the adapter kept is step 2's (lowest validation loss), not the last
VALIDATED_RUN = {**FIRST_STEP, "max_steps": 4, "gradient_accumulation_steps": 2, "validation_fraction": 0.25,
                 "eval_steps": 1}


def engine_train(command: list[str], out: Path, model_dir: str, data: str, **fields) -> Path:
    """``python -m training.engine train`` (after ``command``, the launcher) with ``fields`` as flags."""
    flags = [part for name, value in fields.items() for part in (f"--{name}", str(value))]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", TQDM_DISABLE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([*command, "-m", "training.engine", "train", "--model_name_or_path", model_dir,
                             "--data_path", data, "--output_dir", str(out), *flags],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=400)  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return out


def launch(config: str) -> list[str]:
    """``accelerate launch`` of a shipped config on two CPU processes."""
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or pytest.skip("no accelerate CLI")
    if config.startswith("deepspeed"):
        pytest.importorskip("deepspeed", reason="requirements/scale.txt installs it")
    return [accelerate, "launch", "--config_file", str(ROOT / "training/engine/accelerate" / config),
            "--num_processes", "2", "--main_process_port", str(free_port()), *ON_CPU[config]]


def adapter_weights(out: Path, folder: str = "adapter") -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(out / folder / "adapter_model.safetensors")


def relative_difference(weights: dict, expected: dict) -> float:
    assert weights.keys() == expected.keys() and all(weights[k].shape == expected[k].shape for k in expected)
    size = torch.cat([expected[k].flatten() for k in sorted(expected) if "lora_B" in k]).norm()  # B starts at zero
    assert size > 0, "the adapter did not train"
    return (torch.cat([(weights[k] - expected[k]).flatten() for k in sorted(expected)]).norm() / size).item()


@pytest.mark.slow
@pytest.mark.parametrize("config", SHARDING_CONFIGS)
def test_a_shipped_sharding_config_takes_the_same_first_step_and_reference_pass_as_one_process(
        tmp_path, tiny_model_dir, vowel_data, config):
    two = engine_train(launch(config), tmp_path / "two", tiny_model_dir, vowel_data, **FIRST_STEP)
    one = engine_train([sys.executable], tmp_path / "one", tiny_model_dir, vowel_data, **FIRST_STEP)
    assert relative_difference(adapter_weights(two), adapter_weights(one)) <= 1e-5  # gathered whole, same update
    assert json.loads((two / REFERENCE_CACHE).read_text()) == json.loads((one / REFERENCE_CACHE).read_text())


@pytest.fixture(scope="module")
def ddp_validated_run(tmp_path_factory, tiny_model_dir) -> tuple[Path, str]:
    from training.engine.synthetic import vowel_ranked_records, write_jsonl

    folder = tmp_path_factory.mktemp("ddp-validated")
    data = str(write_jsonl(vowel_ranked_records(64, 4), folder / "vowels.jsonl"))
    return engine_train(launch("ddp.yaml"), folder / "out", tiny_model_dir, data, **VALIDATED_RUN), data


@pytest.mark.slow
@pytest.mark.parametrize("config", SHARDING_CONFIGS)
def test_a_sharded_run_validates_and_keeps_the_same_adapter_as_ddp(tmp_path, tiny_model_dir, ddp_validated_run,
                                                                    config):
    # FSDP and ZeRO-3 score the reference, the validation groups and the KL samples through the sharded
    # model, every process in step, and gather the best adapter from the shards when it is saved
    ddp, data = ddp_validated_run
    sharded = engine_train(launch(config), tmp_path / "out", tiny_model_dir, data, **VALIDATED_RUN)
    summaries = [json.loads((out / "adapter" / "grpo_training.json").read_text()) for out in (sharded, ddp)]
    assert summaries[0]["kept_step"] == summaries[1]["kept_step"] == summaries[0]["best_step"] < 4
    assert summaries[0]["best_eval_loss"] == pytest.approx(summaries[1]["best_eval_loss"], rel=1e-3)
    assert summaries[0]["kl_estimates"] == summaries[1]["kl_estimates"] > 0
    assert relative_difference(adapter_weights(sharded), adapter_weights(ddp)) <= 1e-5
    assert adapter_weights(sharded).keys() == adapter_weights(sharded, "best-adapter").keys()
    for cache in (REFERENCE_CACHE, VALIDATION_REFERENCE_CACHE):
        assert json.loads((sharded / cache).read_text()) == json.loads((ddp / cache).read_text())


@pytest.mark.slow
def test_the_kept_adapter_of_a_sharded_run_is_the_best_steps_weights(tmp_path, tiny_model_dir, vowel_data):
    # ZeRO-3 holds each weight in pieces: the best adapter is gathered whole when saved, and the run's adapter
    # is that file (not the last step's weights); scored again in one process, it gives the logged best loss
    from peft import set_peft_model_state_dict

    out = engine_train(launch("deepspeed-zero3.yaml"), tmp_path / "z3", tiny_model_dir, vowel_data, **VALIDATED_RUN)
    summary = json.loads((out / "adapter" / "grpo_training.json").read_text())
    assert summary["kept_step"] < summary["global_step"]
    assert (out / "adapter" / "adapter_model.safetensors").read_bytes() == \
        (out / "best-adapter" / "adapter_model.safetensors").read_bytes()
    fields = {k: v for k, v in VALIDATED_RUN.items() if k not in ("use_cpu", "disable_tqdm", "save_strategy")}
    trainer, _ = build_trainer(ddp_config(tiny_model_dir, vowel_data, str(tmp_path / "rescore"), None, **fields))
    set_peft_model_state_dict(trainer.model, adapter_weights(out))
    assert trainer.validation_metrics()["eval_loss"] == pytest.approx(summary["best_eval_loss"], rel=1e-3)


def test_a_quantized_base_under_zero3_is_refused_before_anything_loads(monkeypatch, tmp_path):
    from training.engine.config_fields import ConfigError
    from training.engine.trainer import refuse_quantized_zero3

    config = ddp_config("no-such-model", "no-such-data.jsonl", str(tmp_path), None, quantization="4bit")
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "2")
    refuse_quantized_zero3(config)
    monkeypatch.setenv("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3")  # what `accelerate launch` sets for deepspeed-zero3.yaml
    with pytest.raises(ConfigError, match="4bit: not with DeepSpeed ZeRO-3"):
        build_trainer(config)  # refused before the data or the model is read
    refuse_quantized_zero3(ddp_config("m", "d", str(tmp_path), None, quantization="none"))
