"""Benchmark: RankedGRPOTrainer (grouped forward) vs TRL DPOTrainer on the same rankings flattened to pairs.

Same data, same model, same LoRA and optimiser settings, the same number of sequences per optimiser
step; TRL with precompute_ref_log_probs=True (and bf16/gradient checkpointing off on CPU). Every
measurement runs in a fresh worker process (so peak memory is per run); the runs alternate between
the two trainers and the medians are compared, all within one invocation. Also checks that one step
of our trainer and of TRL on the same group of pairs gives the same loss and LoRA weights.

    python benchmarks/bench_engine.py                       # CPU, tiny model, K = 4 and 8
    python benchmarks/bench_engine.py --device cuda --model-size 0.5b --quantization none,4bit

Writes a Markdown section to docs/benchmarks/engine.md (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Runnable as a script too (python benchmarks/bench_engine.py): the repository root must be importable.
sys.path.insert(0, str(ROOT))

MODEL_SIZES = {"small": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4),
               "tiny": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4),
               "0.5b": dict(hidden_size=1536, num_hidden_layers=16, num_attention_heads=12)}
WORDS = "the of and to in is that for it as with was on be by this are from at or an have not".split()


def synthetic_groups(n_prompts: int, k: int, chars: int, seed: int = 0) -> list[dict]:
    """Exchange records: a prompt and K responses of ~``chars`` bytes each, strictly ranked."""
    import random

    rng = random.Random(seed)

    def text(n: int) -> str:
        words = []
        while sum(len(w) + 1 for w in words) < n:
            words.append(rng.choice(WORDS))
        return " ".join(words)[:n]

    return [{"id": f"b{i}", "prompt": text(chars // 2) + "\n", "responses": [text(chars) for _ in range(k)],
             "rankings": rng.sample(range(k), k), "split": "train"} for i in range(n_prompts)]


def flatten_to_pairs(records: list[dict]) -> list[dict]:
    """All valid pairs (chosen ranked above rejected), as TRL's preference format."""
    pairs = []
    for r in records:
        for i, ri in enumerate(r["rankings"]):
            for j, rj in enumerate(r["rankings"]):
                if ri < rj:
                    pairs.append({"prompt": r["prompt"], "chosen": r["responses"][i], "rejected": r["responses"][j]})
    return pairs


class ForwardCounter:
    """Counts sequences and tokens (padding included) entering any embedding layer."""

    def __init__(self):
        import torch

        self.sequences = self.tokens = 0
        self.handle = torch.nn.modules.module.register_module_forward_pre_hook(self._hook)

    def _hook(self, module, inputs):
        import torch

        if isinstance(module, torch.nn.Embedding) and inputs and inputs[0].dim() == 2:
            self.sequences += inputs[0].shape[0]
            self.tokens += inputs[0].numel()

    def snapshot(self) -> tuple[int, int]:
        return self.sequences, self.tokens


def _peak_memory_gib(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def common_settings(args) -> dict:
    return dict(num_train_epochs=1, learning_rate=1e-4, lr_scheduler_type="linear", warmup_steps=0, seed=0,
                max_length=args.max_length, logging_steps=10**6, save_strategy="no", report_to=[],
                disable_tqdm=True, use_cpu=args.device == "cpu", bf16=args.device == "cuda",
                gradient_checkpointing=False, dataloader_num_workers=0)


def lora_settings() -> dict:
    return dict(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def run_ours(args, workdir: Path) -> dict:
    from training.engine import RankedGRPOConfig
    from training.engine.trainer import build_trainer

    settings = common_settings(args)
    settings.pop("report_to")
    config = RankedGRPOConfig(output_dir=str(workdir / "ours"), model_name_or_path=args.model, data_path=args.data,
                              per_device_train_batch_size=args.seqs_per_step // args.k, beta=0.1,
                              max_prompt_length=args.max_length // 2, lora_r=16, lora_alpha=32, lora_dropout=0.0,
                              quantization=args.quant, **settings)
    counter, clock = ForwardCounter(), Clock(args.device)
    trainer, _ = build_trainer(config)
    clock.lap()
    setup_counts = counter.snapshot()
    trainer.train()
    clock.lap()
    return _measurement(args, clock, setup_counts, counter, trainer.state.global_step)


def run_trl(args, workdir: Path) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    from trl import DPOConfig, DPOTrainer

    from training.engine.modeling import load_tokenizer

    records = [json.loads(line) for line in Path(args.data).read_text().splitlines()]
    pairs = flatten_to_pairs(records)
    config = DPOConfig(output_dir=str(workdir / "trl"), per_device_train_batch_size=args.seqs_per_step // 2, beta=0.1,
                       precompute_ref_log_probs=True, **common_settings(args))
    counter, clock = ForwardCounter(), Clock(args.device)
    kwargs = {"dtype": torch.bfloat16 if args.device == "cuda" else torch.float32}
    if args.quant == "4bit":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=kwargs["dtype"])
        kwargs["device_map"] = {"": 0} if args.device == "cuda" else {"": "cpu"}
    model = AutoModelForCausalLM.from_pretrained(args.model, **kwargs)
    trainer = DPOTrainer(model=model, args=config, train_dataset=Dataset.from_list(pairs),
                         processing_class=load_tokenizer(args.model), peft_config=LoraConfig(**lora_settings()))
    clock.lap()
    setup_counts = counter.snapshot()
    trainer.train()
    clock.lap()
    return _measurement(args, clock, setup_counts, counter, trainer.state.global_step)


class Clock:
    """Wall-clock and process CPU time of consecutive phases (CPU time resists a busy shared machine)."""

    def __init__(self, device: str):
        self.device = device
        _sync(device)
        self.marks = [(time.perf_counter(), time.process_time())]
        self.wall, self.cpu = [], []

    def lap(self) -> None:
        _sync(self.device)
        self.marks.append((time.perf_counter(), time.process_time()))
        (w0, c0), (w1, c1) = self.marks[-2:]
        self.wall.append(w1 - w0)
        self.cpu.append(c1 - c0)


def _measurement(args, clock: Clock, setup_counts, counter, steps) -> dict:
    sequences, tokens = counter.snapshot()
    return {"setup_s": clock.wall[0], "train_s": clock.wall[1], "setup_cpu_s": clock.cpu[0],
            "train_cpu_s": clock.cpu[1], "steps": steps,
            "ref_sequences": setup_counts[0], "ref_tokens": setup_counts[1],
            "train_sequences": sequences - setup_counts[0], "train_tokens": tokens - setup_counts[1],
            "peak_gib": _peak_memory_gib(args.device)}


def step_agreement(model_dir: str, records: list[dict], max_length: int, steps: int = 2) -> dict:
    """Two SGD steps on one group (all its pairs in one batch) with our trainer and with TRL; compare the
    per-step losses and the LoRA weights. Step 1 is log 2 for both (LoRA B starts at 0, so policy ==
    reference); step 2 is the first with a non-trivial loss."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl import DPOConfig, DPOTrainer
    from trl.trainer.utils import add_fused_lm_head

    from training.engine import RankedGRPOConfig
    from training.engine.data import build_group_dataset, load_records
    from training.engine.modeling import load_tokenizer
    from training.engine.trainer import RankedGRPOTrainer

    tmp = Path(tempfile.mkdtemp(prefix="bench-agree-"))
    data = tmp / "one.jsonl"
    data.write_text(json.dumps(records[0]) + "\n")
    pairs = flatten_to_pairs(records[:1])
    tokenizer = load_tokenizer(model_dir)
    common = dict(max_steps=steps, learning_rate=1e-2, optim="sgd", lr_scheduler_type="constant", seed=0,
                  max_length=max_length, logging_steps=1, save_strategy="no", disable_tqdm=True, use_cpu=True,
                  bf16=False, gradient_checkpointing=False)

    def lora_model():
        torch.manual_seed(0)
        return get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32),
                              LoraConfig(**lora_settings()))

    def losses(trainer) -> list[float]:
        return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]

    ours_model = lora_model()
    add_fused_lm_head(ours_model.get_base_model())
    config = RankedGRPOConfig(output_dir=str(tmp / "ours"), model_name_or_path=model_dir, data_path=str(data),
                              per_device_train_batch_size=1, beta=0.1, max_prompt_length=max_length // 2,
                              lora_dropout=0.0, **common)
    dataset = build_group_dataset(load_records(data), tokenizer, max_length=max_length,
                                  max_prompt_length=max_length // 2)
    ours = RankedGRPOTrainer(model=ours_model, args=config, train_dataset=dataset, processing_class=tokenizer)
    ours.train()
    trl_model = lora_model()
    trl_config = DPOConfig(output_dir=str(tmp / "trl"), per_device_train_batch_size=len(pairs), beta=0.1,
                           precompute_ref_log_probs=True, report_to=[], **common)
    trl = DPOTrainer(model=trl_model, args=trl_config, train_dataset=Dataset.from_list(pairs),
                     processing_class=tokenizer)
    trl.train()
    ours_w = {n: p.detach() for n, p in ours_model.named_parameters() if "lora_" in n}
    trl_w = {n: p.detach() for n, p in trl_model.named_parameters() if "lora_" in n}
    initial = {n: p.detach() for n, p in lora_model().named_parameters() if "lora_" in n}
    return {"pairs": len(pairs), "steps": steps, "ours_losses": losses(ours), "trl_losses": losses(trl),
            "loss_abs_diff": max(abs(a - b) for a, b in zip(losses(ours), losses(trl), strict=True)),
            "lora_max_abs_diff": max((ours_w[n] - trl_w[n]).abs().max().item() for n in ours_w),
            "lora_max_abs_update": max((ours_w[n] - initial[n]).abs().max().item() for n in ours_w)}


def worker_main(args) -> None:
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as workdir:
        runner = run_ours if args.worker == "ours" else run_trl
        print("RESULT " + json.dumps(runner(args, Path(workdir))), flush=True)


def spawn(args, which: str, k: int, data: str, quant: str) -> dict:
    command = [sys.executable, __file__, "--worker", which, "--k", str(k), "--data", data, "--model", args.model,
               "--device", args.device, "--quant", quant, "--max-length", str(args.max_length),
               "--seqs-per-step", str(args.seqs_per_step), "--threads", str(args.threads)]
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{which} worker failed:\n{done.stderr[-3000:]}")


def machine_description(device: str) -> str:
    import torch
    import transformers
    import trl

    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if device == "cuda" else ", no GPU"
    return (f"{cpu}, {os.cpu_count()} logical cores visible (shared with other work), {memory:.0f} GiB RAM{gpu}; "
            f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}")


def benchmark(args) -> str:
    from training.engine import make_tiny_model
    from training.engine.synthetic import write_jsonl

    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    args.model = make_tiny_model(work / "model", **MODEL_SIZES[args.model_size])
    rows, raw = [], {}
    for quant in args.quantization.split(","):
        for k in args.ks:
            records = synthetic_groups(args.n_prompts, k, args.response_chars)
            data = write_jsonl(records, work / f"k{k}.jsonl")
            runs = {"ours": [], "trl": []}
            for _ in range(args.runs):
                for which in ("ours", "trl"):
                    runs[which].append(spawn(args, which, k, data, quant))
                    print(which, k, quant, json.dumps(runs[which][-1]), flush=True)
            raw[f"{quant}-K{k}"] = runs
            rows.append(summary_row(k, quant, args, runs))
    agreement = step_agreement(args.model, synthetic_groups(1, 4, args.response_chars, seed=1), args.max_length)
    return render(args, rows, agreement, raw)


def summary_row(k: int, quant: str, args, runs: dict) -> dict:
    med = {w: {key: statistics.median(r[key] for r in runs[w]) for key in runs[w][0]} for w in runs}
    return {"k": k, "quant": quant, "prompts": args.n_prompts, "ours": med["ours"], "trl": med["trl"],
            "train_ratio": med["trl"]["train_s"] / med["ours"]["train_s"],
            "train_cpu_ratio": med["trl"]["train_cpu_s"] / med["ours"]["train_cpu_s"],
            "total_ratio": (med["trl"]["train_s"] + med["trl"]["setup_s"]) / (med["ours"]["train_s"] + med["ours"]["setup_s"])}


def render(args, rows, agreement, raw) -> str:
    lines = [
        "## Training engine: grouped trainer vs TRL DPOTrainer on flattened pairs",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/bench_engine.py "
        f"{' '.join(sys.argv[1:])}` on: {machine_description(args.device)}.",
        "",
        f"Model: random-init Llama `{args.model_size}` ({MODEL_SIZES[args.model_size]}), byte tokenizer; LoRA r 16 "
        f"on all linear layers; AdamW lr 1e-4, one epoch; {args.n_prompts} prompts of K responses "
        f"(~{args.response_chars} bytes each, prompt ~{args.response_chars // 2}), strictly ranked; "
        f"{args.seqs_per_step} sequences per optimiser step for both (ours: {args.seqs_per_step}/K groups, "
        f"TRL: {args.seqs_per_step // 2} pairs). TRL: `precompute_ref_log_probs=True`, "
        f"`bf16={args.device == 'cuda'}`, `gradient_checkpointing=False`. Median of {args.runs} runs each, "
        f"alternating, each in a fresh process ({args.threads} torch thread(s) on CPU); peak memory = "
        + ("`torch.cuda.max_memory_allocated`." if args.device == "cuda" else "peak RSS of the worker process."),
        "",
        "| K | quant | trainer | train epoch, wall (s) | train epoch, CPU time (s) | setup incl. reference pass, wall (s) "
        "| steps | sequences fwd (train + ref) | tokens fwd incl. padding (train + ref) | peak memory (GiB) "
        "| speed-up, epoch wall | speed-up, epoch CPU time | speed-up, wall incl. setup |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        for who, label in (("ours", "RankedGRPOTrainer"), ("trl", "TRL DPOTrainer")):
            m = row[who]
            ratio = f"**{row['train_ratio']:.2f}x**" if who == "ours" else "1x"
            cpu_ratio = f"**{row['train_cpu_ratio']:.2f}x**" if who == "ours" else "1x"
            total = f"{row['total_ratio']:.2f}x" if who == "ours" else "1x"
            lines.append(f"| {row['k']} | {row['quant']} | {label} | {m['train_s']:.2f} | {m['train_cpu_s']:.2f} | "
                         f"{m['setup_s']:.2f} | "
                         f"{m['steps']:.0f} | {m['train_sequences']:.0f} + {m['ref_sequences']:.0f} | "
                         f"{m['train_tokens']:.0f} + {m['ref_tokens']:.0f} | {m['peak_gib']:.2f} | {ratio} | {cpu_ratio} | {total} |")
    lines += [
        "",
        f"Agreement with TRL (CPU, fp32, SGD lr 1e-2, {agreement['steps']} steps on one K=4 group = "
        f"{agreement['pairs']} pairs in one batch, weighting none, margin 0, same LoRA init): per-step loss ours "
        f"{_losses(agreement['ours_losses'])} vs TRL {_losses(agreement['trl_losses'])} (max |diff| "
        f"{agreement['loss_abs_diff']:.1e}; step 1 is log 2 for both since LoRA B starts at 0); LoRA weights max "
        f"|diff| {agreement['lora_max_abs_diff']:.1e} after a total update of max |change| "
        f"{agreement['lora_max_abs_update']:.1e}. Tolerance: loss 1e-5, weights 1e-6: "
        + ("**agrees**." if agreement["loss_abs_diff"] <= 1e-5 and agreement["lora_max_abs_diff"] <= 1e-6
           else "**does not agree**."),
        "",
        "Timing on a shared machine: the CPU run shares 2 cores with other work (load average 2-9 during this session), so "
        "wall-clock times can swing by 2-3x between runs; each worker uses one torch thread, and its process CPU time "
        "(user + system) is the steadier measure of the work done. Both are medians over the same alternating runs.",
        "",
        "Why the gap: TRL forwards each response once per pair it is in, so K-1 times per epoch and K-1 times again in "
        "its reference pass; ours forwards it once per epoch and once in the reference pass. At equal sequences per "
        "step the ceiling is therefore K-1 (3x at K = 4, 7x at K = 8); the rest is fixed start-up cost of each run.",
        "",
        ("GPU: " + ("this run." if args.device == "cuda" else "not measured here (no GPU was lent to this task). The same "
         "comparison on a GPU, in one run: `python benchmarks/bench_engine.py --device cuda --model-size 0.5b "
         "--quantization none,4bit --n-prompts 96 --response-chars 256 --max-length 512` (with "
         "`../shared/device/trl_anchor.py` in the same command for the anchor figures).")),
        "",
        "<details><summary>raw runs (JSON)</summary>",
        "",
        "```json",
        json.dumps(raw),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _losses(values: list[float]) -> str:
    return ", ".join(f"{v:.8f}" for v in values)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--model-size", choices=sorted(MODEL_SIZES), default="small",
                        help="small (~0.5M parameters, default on CPU), tiny (make-tiny-model's ~3M), 0.5b (GPU)")
    parser.add_argument("--quantization", default="none", help="comma-separated: none,4bit")
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--n-prompts", type=int, default=96)
    parser.add_argument("--response-chars", type=int, default=48)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--seqs-per-step", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per worker (CPU only)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "engine.md"))
    # worker mode (internal)
    parser.add_argument("--worker", choices=["ours", "trl"])
    parser.add_argument("--k", type=int)
    parser.add_argument("--data")
    parser.add_argument("--model")
    parser.add_argument("--quant", default="none")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.worker:
        worker_main(args)
        return
    text = benchmark(args)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
