"""A training job as engine command lines: base evaluation (once), training, tuned evaluation, in one
``train`` process (``--evaluate_base_output`` / ``--evaluate_output``) unless the job trains on several.

``python -m training.engine train`` takes every config field as a flag, reads the export and writes
its output folder at storage URLs, prints progress as ``@grpo`` lines (``--events``) and always
resumes from the last checkpoint in its output folder. With more than one process it runs under
``accelerate launch`` with the job's accelerate config (training/engine/accelerate/).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from ..engine.verdict import PRIMARY_METRIC, verdict_scoring
from ..job_storage import export_url, training_url
from ..models import TrainingJob
from .base import Launcher, LaunchError, RunSpec

ACCELERATE_DIR = Path(__file__).resolve().parent.parent / "engine" / "accelerate"
ACCELERATE_CONFIGS = {  # name -> (file, what it is for); docs/scaling.md says when to use which
    "ddp": ("ddp.yaml", "DDP: the model fits one GPU; more GPUs train faster"),
    "fsdp": ("fsdp.yaml", "FSDP: weights, gradients and optimizer state sharded (LoRA-aware auto wrap)"),
    "zero2": ("deepspeed-zero2.yaml", "DeepSpeed ZeRO-2: optimizer state and gradients sharded"),
    "zero3": ("deepspeed-zero3.yaml", "DeepSpeed ZeRO-3: everything sharded from loading on; the model may exceed one GPU"),
}
# the configs that shard the base weights, so that it may be larger than one GPU: evaluation spreads it over the GPUs
SHARDED_WEIGHTS = ("fsdp", "zero3")
EVALUATION_FILES = {"base": "evaluation-base.json", "tuned": "evaluation-tuned.json"}
FORWARDED_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_ENDPOINT_URL", "HF_TOKEN", "HF_HOME")  # fmt: skip


def job_run_spec(job: TrainingJob, launcher: Launcher, *, evaluate_base: bool, evaluate: bool) -> RunSpec:
    """One engine process (``train --evaluate_base_output --evaluate_output``: the export parsed once, the base
    model loaded once) for a one-process job; with several processes, ``evaluate`` runs before and after."""
    launch = job.launch or {}
    if int(launch.get("num_processes") or 1) > 1:
        steps = separate_steps(job, launcher, evaluate_base=evaluate_base, evaluate=evaluate)
    else:
        outputs = {"--evaluate_base_output": evaluate_base and training_url(job, EVALUATION_FILES["base"]),
                   "--evaluate_output": evaluate and training_url(job, EVALUATION_FILES["tuned"])}
        steps = [train_command(job, launcher.python, export_url(job), training_url(job, "output"))
                 + [part for flag, url in outputs.items() if url for part in (flag, url)]]
    return RunSpec(
        name=f"grpo-job-{job.pk}-attempt-{job.attempts}", steps=steps, work_dir=job.work_path,
        env=run_env(local=launcher.name == "local"), num_cpus=float(launch.get("num_cpus") or 1), num_gpus=float(launch.get("num_gpus") or 0),
    )  # fmt: skip


def separate_steps(job: TrainingJob, launcher: Launcher, *, evaluate_base: bool, evaluate: bool) -> list[list[str]]:
    """``evaluate`` (base), ``train`` under ``accelerate launch``, ``evaluate --adapter``: three processes."""
    data, output = export_url(job), training_url(job, "output")
    engine = [launcher.python, "-m", "training.engine"]
    steps = [engine + ["evaluate", *evaluate_flags(job, data), "--output", training_url(job, EVALUATION_FILES["base"])]
             ] if evaluate_base else []  # fmt: skip
    steps.append(train_command(job, launcher.python, data, output))
    if evaluate:
        adapter = training_url(job, "output", "adapter")
        steps.append(engine + ["evaluate", *evaluate_flags(job, data), "--adapter", adapter, "--update_card",
                               "--output", training_url(job, EVALUATION_FILES["tuned"])])
    return steps


def train_command(job: TrainingJob, python: str, data: str, output: str) -> list[str]:
    flags = [f"--{key}={_flag_value(value)}" for key, value in sorted((job.config or {}).items()) if value is not None]
    engine_args = ["train", *flags, "--data", data, "--output", output, "--resume", "--events",
                   "--disable_tqdm=true"]  # fmt: skip
    processes = _processes(job)
    if processes <= 1:
        return [python, "-m", "training.engine", *engine_args]
    accelerate = [python, "-m", "accelerate.commands.launch", "--num_processes", str(processes)]
    name = _accelerate_config(job)
    if name not in ACCELERATE_CONFIGS:  # a config stored by another version, or written through the admin
        raise LaunchError(f"accelerate_config {name!r} is not one of {', '.join(ACCELERATE_CONFIGS)} "
                          "(docs/scaling.md); clone the job and pick another")
    accelerate += ["--config_file", str(ACCELERATE_DIR / ACCELERATE_CONFIGS[name][0])]
    return [*accelerate, "-m", "training.engine", *engine_args]


def launch_problem(accelerate_config: str, config: dict) -> str | None:
    """Why a multi-GPU config cannot train this job's config (the engine refuses it too), or None."""
    quantization = config.get("quantization") or "none"
    if accelerate_config == "zero3" and quantization != "none":
        return (f"zero3 cannot load a {quantization} base model: DeepSpeed ZeRO-3 partitions the weights while "
                "loading; pick ddp, zero2 or fsdp, or quantization none")
    return None


def evaluate_flags(job: TrainingJob, data: str) -> list[str]:
    config = job.config or {}
    flags = ["--data", data, "--model", config.get("model_name_or_path") or job.base_model, "--split", "test",
             "--max_length", str(int(config.get("max_length", 512))),
             "--batch_size", str(max(1, int(config.get("per_device_train_batch_size", 4)))),
             "--quantization", config.get("quantization") or "none", "--events",
             "--primary_metric", config.get("primary_metric") or PRIMARY_METRIC,
             "--scoring", verdict_scoring(config.get("loss"), config.get("length_normalize"))]  # fmt: skip
    for name in ("max_prompt_length", "beta"):
        if config.get(name) is not None:
            flags += [f"--{name}", str(config[name])]
    if _processes(job) > 1 and _accelerate_config(job) in SHARDED_WEIGHTS:
        flags += ["--device_map", "auto"]
    return flags


def _processes(job: TrainingJob) -> int:
    return int((job.launch or {}).get("num_processes") or 1)


def _accelerate_config(job: TrainingJob) -> str:
    return (job.launch or {}).get("accelerate_config") or "ddp"


def run_env(*, local: bool) -> dict[str, str]:
    """Variables the engine process needs: unbuffered output, quiet tokenizers, storage credentials, and on
    this host the worker's torch thread count (TRAINING_CPU_THREADS; 0 keeps torch's default)."""
    env = {"PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    if local and settings.TRAINING_CPU_THREADS:
        env["OMP_NUM_THREADS"] = str(settings.TRAINING_CPU_THREADS)
    env.update({name: os.environ[name] for name in FORWARDED_ENV if os.environ.get(name)})
    return env


def _flag_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
