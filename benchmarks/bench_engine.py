"""Benchmark: RankedGRPOTrainer vs TRL DPOTrainer on the same rankings flattened to pairs.

Three trainers on the same data, model, LoRA and optimiser settings: (a) TRL DPOTrainer on all
pairs (precompute_ref_log_probs=True), (b) ours without prefix sharing (one row per response,
``seqs_per_step / K`` groups per step), (c) ours with prefix sharing and a token budget equal to the
tokens (b) processes per step. Two data shapes: short prompts (~24 bytes, responses ~48) and long
prompts (~384 tokens, responses ~64). Every measurement runs in a fresh worker process (so peak
memory is per run); the runs alternate and the medians are compared, all within one invocation.
Also checks that two steps of our trainer and of TRL on one group give the same loss and weights.

    python benchmarks/bench_engine.py                       # CPU, small model, K = 4 and 8
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

from transformers import TrainerCallback

ROOT = Path(__file__).resolve().parents[1]
# Runnable as a script too (python benchmarks/bench_engine.py): the repository root must be importable.
sys.path.insert(0, str(ROOT))

PAD_ID = 0
MODEL_SIZES = {"small": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4),
               "tiny": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4),
               "0.5b": dict(hidden_size=1536, num_hidden_layers=16, num_attention_heads=12)}
DATA_KINDS = {"short": dict(prompt_chars=24, response_chars=48, max_length=256, max_prompt_length=128),
              "long": dict(prompt_chars=384, response_chars=64, max_length=512, max_prompt_length=448)}
VARIANTS = {"trl": "(a) TRL DPOTrainer, all pairs", "unshared": "(b) ours, no prefix sharing",
            "shared": "(c) ours, prefix sharing (auto) + token budget"}
WORDS = "the of and to in is that for it as with was on be by this are from at or an have not".split()


def synthetic_groups(n_prompts: int, k: int, chars: int, seed: int = 0, prompt_chars: int | None = None) -> list[dict]:
    """Exchange records: a prompt of ~``prompt_chars`` bytes (default chars / 2) and K responses of ~``chars``
    bytes each, strictly ranked."""
    import random

    rng = random.Random(seed)

    def text(n: int) -> str:
        words = []
        while sum(len(w) + 1 for w in words) < n:
            words.append(rng.choice(WORDS))
        return " ".join(words)[:n]

    prompt_chars = chars // 2 if prompt_chars is None else prompt_chars
    return [{"id": f"b{i}", "prompt": text(prompt_chars) + "\n", "responses": [text(chars) for _ in range(k)],
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

        self.sequences = self.tokens = self.real_tokens = 0
        self.handle = torch.nn.modules.module.register_module_forward_pre_hook(self._hook)

    def _hook(self, module, inputs):
        import torch

        if isinstance(module, torch.nn.Embedding) and inputs and inputs[0].dim() == 2:
            self.sequences += inputs[0].shape[0]
            self.tokens += inputs[0].numel()
            self.real_tokens += int((inputs[0] != PAD_ID).sum())  # byte tokenizer: only padding is id 0

    def snapshot(self) -> tuple[int, int, int]:
        return self.sequences, self.tokens, self.real_tokens


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
    shared = args.worker == "shared"
    config = RankedGRPOConfig(output_dir=str(workdir / "ours"), model_name_or_path=args.model, data_path=args.data,
                              per_device_train_batch_size=max(1, args.seqs_per_step // args.k), beta=0.1,
                              max_prompt_length=args.max_prompt_length, lora_r=16, lora_alpha=32, lora_dropout=0.0,
                              quantization=args.quant, prefix_sharing="auto" if shared else "off",
                              max_tokens_per_batch=args.max_tokens_per_batch if shared else None, **settings)
    counter, clock = ForwardCounter(), Clock(args.device)
    trainer, _ = build_trainer(config)
    return {**_train_and_measure(args, trainer, clock, counter), "packed": float(trainer.prefix_sharing)}


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
    return _train_and_measure(args, trainer, clock, counter)


def _train_and_measure(args, trainer, clock, counter) -> dict:
    clock.lap()
    setup_counts = counter.snapshot()
    after_first = AfterFirstStep(counter, args.device)
    trainer.add_callback(after_first)
    trainer.train()
    clock.lap()
    result = _measurement(args, clock, setup_counts, counter, trainer.state.global_step)
    result["per_prompt_ms"] = after_first.per_prompt_ms(setup_counts[1], counter.tokens, args.n_prompts)
    real_tokens = counter.real_tokens - setup_counts[2]
    result["tokens_per_s"] = real_tokens / clock.wall[1]
    result["prompts_per_s"] = args.n_prompts / clock.wall[1]
    result["mfu"] = model_flops_utilisation(args.model, real_tokens, clock.wall[1], args.device)
    return result


H100_H200_BF16_PEAK = 989e12  # dense bf16 FLOP/s of an H100/H200 SXM (the spec sheet's figure without sparsity)


def model_flops_utilisation(model_dir: str, tokens: int, seconds: float, device: str) -> float | None:
    """Achieved / peak FLOP/s, counting 4 x parameters FLOPs per real (non-padding) trained token: 2 for the
    forward, 2 for the backward to the activations (the frozen base gets no weight gradients; the LoRA
    factors and attention scores are left out, so this slightly understates the work done)."""
    if device != "cuda":
        return None
    from safetensors import safe_open

    params = 0
    for file in Path(model_dir).glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as weights:
            params += sum(_numel(weights.get_slice(name).get_shape()) for name in weights.keys())  # noqa: SIM118
    return 4 * params * tokens / seconds / H100_H200_BF16_PEAK


def _numel(shape) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


class AfterFirstStep(TrainerCallback):
    """Marginal cost per prompt: CPU time after the first optimiser step (start-up and warm-up excluded)
    over the prompts trained after it (the share of the epoch's training tokens, groups being alike)."""

    def __init__(self, counter, device: str):
        self.counter, self.device, self.mark = counter, device, None

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1:
            _sync(self.device)
            self.mark = (time.process_time(), self.counter.tokens)

    def per_prompt_ms(self, tokens_before: int, tokens_after: int, n_prompts: int) -> float:
        cpu, tokens = self.mark
        share = (tokens_after - tokens) / max(1, tokens_after - tokens_before)
        return 1000 * (time.process_time() - cpu) / max(share * n_prompts, 1e-9)


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
    sequences, tokens, real = counter.snapshot()
    return {"setup_s": clock.wall[0], "train_s": clock.wall[1], "setup_cpu_s": clock.cpu[0],
            "train_cpu_s": clock.cpu[1], "steps": steps,
            "ref_sequences": setup_counts[0], "ref_tokens": setup_counts[1],
            "train_sequences": sequences - setup_counts[0], "train_tokens": tokens - setup_counts[1],
            "train_padding_share": 1 - (real - setup_counts[2]) / max(1, tokens - setup_counts[1]),
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
    from training.engine.data import build_group_dataset
    from training.engine.modeling import load_tokenizer
    from training.engine.records import load_records
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
        runner = run_trl if args.worker == "trl" else run_ours
        print("RESULT " + json.dumps(runner(args, Path(workdir))), flush=True)


def spawn(args, which: str, k: int, data: str, quant: str, kind: dict, budget: int | None = None) -> dict:
    budget = budget or args.seqs_per_step * (kind["prompt_chars"] + kind["response_chars"] + 3)  # (b)'s per step
    command = [sys.executable, __file__, "--worker", which, "--k", str(k), "--data", data, "--model", args.model,
               "--device", args.device, "--quant", quant, "--max-length", str(kind["max_length"]),
               "--max-prompt-length", str(kind["max_prompt_length"]), "--max-tokens-per-batch", str(budget),
               "--seqs-per-step", str(args.seqs_per_step), "--threads", str(args.threads),
               "--n-prompts", str(args.n_prompts if kind is DATA_KINDS["short"] else args.n_prompts_long)]
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
        for kind_name in args.data_kinds:
            kind = DATA_KINDS[kind_name]
            n_prompts = args.n_prompts if kind_name == "short" else args.n_prompts_long
            for k in args.ks:
                records = synthetic_groups(n_prompts, k, kind["response_chars"], prompt_chars=kind["prompt_chars"])
                data = write_jsonl(records, work / f"{kind_name}-k{k}.jsonl")
                runs = {which: [] for which in VARIANTS}
                for _ in range(args.runs):
                    for which in VARIANTS:
                        runs[which].append(spawn(args, which, k, data, quant, kind))
                        print(kind_name, which, k, quant, json.dumps(runs[which][-1]), flush=True)
                raw[f"{quant}-{kind_name}-K{k}"] = runs
                rows.append(summary_row(k, quant, kind_name, n_prompts, runs))
    sweep = budget_sweep(args, work) if args.sweep_tokens else []
    short = DATA_KINDS["short"]
    agreement = step_agreement(args.model, synthetic_groups(1, 4, short["response_chars"], seed=1),
                               short["max_length"])
    return render(args, rows, agreement, raw, sweep)


def budget_sweep(args, work: Path) -> list[dict]:
    """(c) on long-prompt K = 8 data at growing token budgets: throughput and MFU up to the largest that fits."""
    from training.engine.synthetic import write_jsonl

    kind = DATA_KINDS["long"]
    records = synthetic_groups(args.n_prompts_long, 8, kind["response_chars"], prompt_chars=kind["prompt_chars"])
    data = write_jsonl(records, work / "sweep.jsonl")
    results = []
    for budget in args.sweep_tokens:
        try:
            result = spawn(args, "shared", 8, data, args.quantization.split(",")[0], kind, budget=budget)
        except RuntimeError as error:  # out of memory: the previous budget was the largest that fits
            results.append({"budget": budget, "error": str(error).splitlines()[-1][:120]})
            break
        results.append({"budget": budget, **result})
        print("sweep", budget, json.dumps(result), flush=True)
    return results


def summary_row(k: int, quant: str, kind: str, n_prompts: int, runs: dict) -> dict:
    med = {w: {key: statistics.median(r[key] for r in runs[w]) for key in runs[w][0] if runs[w][0][key] is not None}
           for w in runs}
    return {"k": k, "quant": quant, "kind": kind, "prompts": n_prompts, **med}


def render(args, rows, agreement, raw, sweep=()) -> str:
    lines = _header(args) + _table(rows) + _targets(rows)
    if args.device == "cuda":
        lines += _gpu_table(rows, sweep)
    return "\n".join(lines + _footer(args, agreement, raw))


def _gpu_table(rows, sweep) -> list[str]:
    lines = ["", "| data | K | trainer | prompts/s | real tokens/s | MFU | peak memory (GiB) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        for which, label in VARIANTS.items():
            m = row[which]
            lines.append(f"| {row['kind']} {row['quant']} | {row['k']} | {label} | {m['prompts_per_s']:.2f} "
                         f"| {m['tokens_per_s']:.0f} | {100 * m['mfu']:.1f}% | {m['peak_gib']:.2f} |")
    if sweep:
        lines += ["", "Token-budget sweep, (c) on long prompts, K = 8 (MFU = 4 x parameters x real tokens / time / "
                  "989 TFLOP/s):", "", "| max_tokens_per_batch | real tokens/s | MFU | peak memory (GiB) |",
                  "| --- | --- | --- | --- |"]
        for entry in sweep:
            if "error" in entry:
                lines.append(f"| {entry['budget']} | failed: {entry['error']} | | |")
            else:
                lines.append(f"| {entry['budget']} | {entry['tokens_per_s']:.0f} | {100 * entry['mfu']:.1f}% "
                             f"| {entry['peak_gib']:.2f} |")
    return lines


def _header(args) -> list[str]:
    kinds = "; ".join(f"{name}: prompts ~{d['prompt_chars']} bytes, responses ~{d['response_chars']} "
                      f"(max_length {d['max_length']})" for name, d in DATA_KINDS.items())
    return [
        "## Training engine: prefix sharing and token budget vs no sharing vs TRL DPOTrainer on flattened pairs",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/bench_engine.py "
        f"{' '.join(sys.argv[1:])}` on: {machine_description(args.device)}.",
        "",
        f"Model: random-init Llama `{args.model_size}` ({MODEL_SIZES[args.model_size]}), byte tokenizer (1 byte = 1 "
        f"token), fp32 on CPU; LoRA r 16 on all linear layers; AdamW lr 1e-4, one epoch; strictly ranked groups of "
        f"K responses ({kinds}); {args.n_prompts} short-prompt and {args.n_prompts_long} long-prompt groups. "
        f"(a) TRL: {args.seqs_per_step // 2} pairs per step, `precompute_ref_log_probs=True`; (b) ours: "
        f"{args.seqs_per_step}/K groups per step, one row per response; (c) ours: `prefix_sharing=auto` (one packed "
        f"row per group when the FLOP estimate says it pays off, which it does not for short prompts with K = 8 on this "
        f"narrow model: the packed row's quadratic attention outweighs the saved prompts), micro-batches filled up to "
        f"the tokens (b) processes per step ({args.seqs_per_step} x (prompt + response)). "
        f"Median of {args.runs} runs each, alternating, each in a fresh process ({args.threads} torch thread(s)); "
        "**per prompt** = marginal training cost: CPU time after the first optimiser step over the prompts trained "
        "after it (start-up, warm-up and the reference pass excluded); "
        "padding = share of the training tokens that are padding; peak memory = "
        + ("`torch.cuda.max_memory_allocated`." if args.device == "cuda" else "peak RSS of the worker process."),
        "",
        "| data | K | trainer | per prompt, CPU (ms) | epoch wall (s) | setup incl. reference, wall (s) | steps "
        "| tokens fwd incl. padding (train + ref) | padding | peak memory (GiB) | (c) vs (b) | vs TRL |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]


def _table(rows) -> list[str]:
    lines = []
    for row in rows:
        for which, label in VARIANTS.items():
            m = row[which]
            vs_b = f"**{row['unshared']['per_prompt_ms'] / m['per_prompt_ms']:.2f}x**" if which == "shared" else ""
            vs_trl = f"{row['trl']['per_prompt_ms'] / m['per_prompt_ms']:.2f}x"
            quant = "" if row["quant"] == "none" else f" {row['quant']}"
            if which == "shared":
                label += ": packed rows" if m["packed"] else ": auto chose one row per response"
            lines.append(f"| {row['kind']}{quant} | {row['k']} | {label} | {m['per_prompt_ms']:.1f} | {m['train_s']:.2f} "
                         f"| {m['setup_s']:.2f} | {m['steps']:.0f} | {m['train_tokens']:.0f} + {m['ref_tokens']:.0f} "
                         f"| {100 * m['train_padding_share']:.1f}% | {m['peak_gib']:.2f} | {vs_b} | {vs_trl} |")
    return lines


TARGETS = {("long", 4): (2.0, 6.0), ("long", 8): (2.5, 15.0)}


def _targets(rows) -> list[str]:
    lines = ["", "| target (CPU, long prompts) | measured | met |", "| --- | --- | --- |"]
    for row in rows:
        goal = TARGETS.get((row["kind"], row["k"]))
        if goal is None or row["quant"] != "none":
            continue
        shared = row["shared"]["per_prompt_ms"]
        for name, base, want in (("(b)", "unshared", goal[0]), ("TRL", "trl", goal[1])):
            got = row[base]["per_prompt_ms"] / shared
            lines.append(f"| (c) >= {want:g}x {name} at K = {row['k']} | {got:.2f}x | {'yes' if got >= want else 'no'} |")
    for row in rows:
        if row["kind"] == "short" and row["quant"] == "none":
            got = row["unshared"]["per_prompt_ms"] / row["shared"]["per_prompt_ms"]
            lines.append(f"| short prompts, K = {row['k']}: (c) no slower than (b), within the 5% run-to-run noise | {got:.2f}x | "
                         f"{'yes' if got >= 0.95 else 'no'} |")
        if row["quant"] == "none":
            ok = row["shared"]["peak_gib"] <= row["trl"]["peak_gib"] * 1.02
            lines.append(f"| {row['kind']}, K = {row['k']}: peak memory (c) <= TRL | {row['shared']['peak_gib']:.2f} vs "
                         f"{row['trl']['peak_gib']:.2f} GiB | {'yes' if ok else 'no'} |")
    return lines


def _footer(args, agreement, raw) -> list[str]:
    return [
        "",
        f"Agreement with TRL (CPU, fp32, SGD lr 1e-2, {agreement['steps']} steps on one K=4 group = "
        f"{agreement['pairs']} pairs in one batch, our trainer with prefix sharing, same LoRA init): per-step loss "
        f"ours {_losses(agreement['ours_losses'])} vs TRL {_losses(agreement['trl_losses'])} (max |diff| "
        f"{agreement['loss_abs_diff']:.1e}); LoRA weights max |diff| {agreement['lora_max_abs_diff']:.1e} after a "
        f"total update of max |change| {agreement['lora_max_abs_update']:.1e}. Tolerance: loss 1e-5, weights 1e-6: "
        + ("**agrees**." if agreement["loss_abs_diff"] <= 1e-5 and agreement["lora_max_abs_diff"] <= 1e-6
           else "**does not agree**."),
        "",
        "Timing on a shared machine: 2 cores shared with other work, so wall-clock times swing; each worker uses one "
        "torch thread and its process CPU time is the steadier measure (the ratios use it).",
        "",
        "Where the factors come from: TRL forwards each response once per pair it is in (K - 1 times per epoch); (b) "
        "once, but with the prompt again in each of the K rows; (c) encodes the prompt once per group (a 640-token "
        "row instead of 4 x 448 at K = 4 on long prompts) and fills micro-batches by tokens, so short groups are not "
        "padded to long ones.",
        "",
        "GPU: " + ("this run." if args.device == "cuda" else "figures pending: no GPU was lent to this task. The prepared "
                   "script `benchmarks/gpu_engine.sh` runs (a), (b) and (c) on the 0.5B random-init Llama in bf16 and "
                   "4-bit with `../shared/device/trl_anchor.py` in the same call (see its header)."),
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


def _losses(values: list[float]) -> str:
    return ", ".join(f"{v:.8f}" for v in values)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--model-size", choices=sorted(MODEL_SIZES), default="small",
                        help="small (~0.5M parameters, default on CPU), tiny (make-tiny-model's ~3M), 0.5b (GPU)")
    parser.add_argument("--quantization", default="none", help="comma-separated: none,4bit")
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--data-kinds", nargs="+", choices=sorted(DATA_KINDS), default=["short", "long"])
    parser.add_argument("--n-prompts", type=int, default=48, help="short-prompt groups")
    parser.add_argument("--n-prompts-long", type=int, default=16, help="long-prompt groups")
    parser.add_argument("--seqs-per-step", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sweep-tokens", type=int, nargs="*", default=[],
                        help="token budgets for a throughput/MFU sweep of (c) (GPU: 8192 16384 32768 65536)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per worker (CPU only)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "engine.md"))
    # worker mode (internal)
    parser.add_argument("--worker", choices=sorted(VARIANTS))
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--max-prompt-length", type=int, default=128)
    parser.add_argument("--max-tokens-per-batch", type=int)
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
