"""Candidate generation: K sampled responses per prompt from a base model (and optional adapter).

    records = generate_candidates(prompts, GenerationSettings(model="M", adapter="A", num_responses=4))

Each output record is an exchange record (``id``, ``prompt``, ``responses``, ``response_details``
with ``source`` and the sampling metadata, including each response's ``finish_reason``: "stop" or
"length"), ready for ``import_rankings``. Both backends sample with every parameter passed explicitly
(``sampling.SamplingParameters``: temperature, top_p, top_k 0 = off, repetition_penalty 1 = off,
max_new_tokens), never the model's generation_config, so what is recorded is what ran. Sampling is seeded per
prompt (seed + a hash of the prompt id), so the same settings give the same responses whatever the
batch size or the order of the prompts. On a CUDA machine with vLLM installed the same settings run
through vLLM (``backend="auto"``); the output format is the same.

Nothing heavy is imported at module level: the web validates ``GenerationSettings`` from here, in a
process that never imports torch (``python -m tools.check_layers`` checks it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

from .sampling import SamplingParameters

BACKENDS = ("auto", "transformers", "vllm")


@dataclass(frozen=True)
class GenerationSettings:
    """How to sample: the model (hub id or folder), an optional LoRA adapter folder, K and sampling."""

    model: str = field(metadata={"help": "Hub id or local folder of the base causal language model."})
    adapter: str | None = field(default=None, metadata={"help": "Folder of a trained LoRA adapter to sample from (default: the base model)."})
    num_responses: int = field(default=4, metadata={"help": "Responses (K) to sample per prompt."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling: keep the smallest set of tokens with this much probability."})
    top_k: int = field(default=0, metadata={"help": "Keep only the k most likely tokens (0: off)."})
    repetition_penalty: float = field(default=1.0, metadata={"help": "Divide the logits of tokens already present by this (1: off)."})
    max_new_tokens: int = field(default=128, metadata={"help": "Longest response, in tokens."})
    seed: int = field(default=0, metadata={"help": "Seed; each prompt samples from seed + a hash of its id."})
    batch_size: int = field(default=8, metadata={"help": "Sequences generated at once (transformers backend)."})
    source: str | None = field(default=None, metadata={"help": "Source label stored with each response (default: base:<model> or adapter:<adapter>)."})
    backend: str = field(default="auto", metadata={"help": "auto (vLLM when installed on a CUDA machine), transformers or vllm.", "choices": BACKENDS})

    def errors(self) -> dict[str, str]:
        """Every problem with these settings at once, by field."""
        checks = {
            "model": (bool(self.model), "required"),
            "num_responses": (_int(self.num_responses) and 1 <= self.num_responses <= 64, "must be an integer in 1..64"),
            "temperature": (_num(self.temperature) and 0 < self.temperature <= 10, "must be in (0, 10]"),
            "top_p": (_num(self.top_p) and 0 < self.top_p <= 1, "must be in (0, 1]"),
            "top_k": (_int(self.top_k) and 0 <= self.top_k <= 100_000, "must be an integer in 0..100000 (0: off)"),
            "repetition_penalty": (_num(self.repetition_penalty) and 0 < self.repetition_penalty <= 10,
                                   "must be in (0, 10] (1: off)"),
            "max_new_tokens": (_int(self.max_new_tokens) and 1 <= self.max_new_tokens <= 8192, "must be an integer in 1..8192"),
            "seed": (_int(self.seed) and 0 <= self.seed < 2**32, "must be an integer in [0, 2^32)"),
            "batch_size": (_int(self.batch_size) and self.batch_size >= 1, "must be an integer >= 1"),
            "backend": (self.backend in BACKENDS, f"must be one of {', '.join(BACKENDS)}"),
        }
        return {name: f"{rule} (got {getattr(self, name)!r})" for name, (ok, rule) in checks.items() if not ok}

    def sampling(self) -> SamplingParameters:
        return SamplingParameters(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
                                  repetition_penalty=self.repetition_penalty, max_new_tokens=self.max_new_tokens)

    def metadata(self) -> dict:
        """What a generated response records about how it was made (every sampling parameter)."""
        keys = ("model", "adapter", "seed")
        return {**{key: value for key, value in asdict(self).items() if key in keys}, **self.sampling().record()}

    def source_label(self) -> str:
        return self.source or ("adapter:" + Path(self.adapter).name if self.adapter else "base:" + Path(self.model).name)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _num(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_prompts(path: str | Path) -> list[dict]:
    """Prompts from a JSON/JSONL file of records with ``prompt`` (``id`` optional), or a .txt file
    with one prompt per line. Ids default to a hash of the prompt text."""
    from .records import DataError, _read_json_records

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix == ".txt":
        raw = [{"prompt": line} for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        raw = _read_json_records(path.read_bytes(), path)
    prompts = []
    for number, record in enumerate(raw, start=1):
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str) or not record["prompt"].strip():
            raise DataError(f"record {number}: prompt: expected a non-empty string")
        prompts.append({"id": str(record.get("id") or prompt_id(record["prompt"])), "prompt": record["prompt"]})
    return prompts


def prompt_id(text: str) -> str:
    return "p-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _prompt_seed(seed: int, record_id: str) -> int:
    digest = hashlib.sha256(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def generate_candidates(prompts: list[dict], settings: GenerationSettings, progress=None) -> list[dict]:
    """K responses for each prompt, as exchange records (see the module doc)."""
    sampler = CandidateSampler(settings)
    try:
        records = []
        for number, prompt in enumerate(prompts, start=1):
            records.append(candidate_record(prompt, sampler(prompt), settings))
            if progress is not None:
                progress(number, len(prompts))
        return records
    finally:
        sampler.close()


class Sample(NamedTuple):
    text: str
    finish_reason: str  # "stop" (an end token) or "length" (max_new_tokens reached)


def candidate_record(prompt: dict, samples: list[Sample], settings: GenerationSettings) -> dict:
    details = [{"source": settings.source_label(), "metadata": {**settings.metadata(), "finish_reason": s.finish_reason}}
               for s in samples]
    return {"id": prompt["id"], "prompt": prompt["prompt"], "responses": [s.text for s in samples],
            "response_details": details}


class CandidateSampler:
    """``sampler(prompt) -> K Samples`` (text, finish reason); loads the model (vLLM or transformers) on first use."""

    def __init__(self, settings: GenerationSettings):
        problems = settings.errors()
        if problems:
            raise ValueError("; ".join(f"{name}: {message}" for name, message in problems.items()))
        self.settings = settings
        self._model = self._tokenizer = self._llm = None

    def __call__(self, prompt: dict) -> list[Sample]:
        if self._model is None and self._llm is None:
            self._load()
        samples = self._vllm(prompt) if self._llm is not None else self._transformers(prompt)
        return [Sample(clean_text(text), reason) for text, reason in samples]

    def close(self) -> None:
        self._model = self._tokenizer = self._llm = None
        import gc

        gc.collect()

    def _load(self) -> None:
        if _use_vllm(self.settings):  # pragma: no cover - GPU machines only
            from vllm import LLM

            self._llm = LLM(model=self.settings.model, enable_lora=bool(self.settings.adapter), seed=self.settings.seed)
            self._tokenizer = self._llm.get_tokenizer()
        else:
            self._model, self._tokenizer = load_generator(self.settings)

    def _transformers(self, prompt: dict) -> list[tuple[str, str]]:
        """K samples of one prompt, in chunks of ``batch_size`` sequences, from a per-prompt seed."""
        import torch

        from .data import _token_ids
        from .sampling import sample_hf

        settings, model = self.settings, self._model
        seed = _prompt_seed(settings.seed, prompt["id"])
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        input_ids = torch.tensor([_token_ids(self._tokenizer, prompt["prompt"], None)], device=model.device)
        samples: list[tuple[str, str]] = []
        while len(samples) < settings.num_responses:
            n = min(settings.batch_size, settings.num_responses - len(samples))
            completions = sample_hf(model, input_ids, settings.sampling(), n=n, pad_token_id=self._tokenizer.pad_token_id,
                                    eos_token_id=self._tokenizer.eos_token_id)
            samples += [(self._tokenizer.decode(c.tokens, skip_special_tokens=True), c.finish_reason)
                        for c in completions]
        return samples

    def _vllm(self, prompt: dict) -> list[tuple[str, str]]:  # pragma: no cover - GPU machines only
        from vllm import SamplingParams
        from vllm.lora.request import LoRARequest

        from .data import _token_ids

        settings = self.settings
        params = SamplingParams(n=settings.num_responses, seed=_prompt_seed(settings.seed, prompt["id"]),
                                **settings.sampling().vllm_kwargs())
        lora = LoRARequest("adapter", 1, settings.adapter) if settings.adapter else None
        ids = _token_ids(self._tokenizer, prompt["prompt"], None)
        (output,) = self._llm.generate([{"prompt_token_ids": ids}], params, lora_request=lora, use_tqdm=False)
        return [(choice.text, "length" if choice.finish_reason == "length" else "stop") for choice in output.outputs]


def _use_vllm(settings: GenerationSettings) -> bool:
    if settings.backend == "transformers":
        return False
    import importlib.util

    import torch

    available = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    if settings.backend == "vllm" and not available:
        raise ValueError("backend: vllm needs the vllm package and a CUDA GPU")
    return available


def load_generator(settings: GenerationSettings):
    """The model (with its adapter, if any) and tokenizer, ready for ``generate``."""
    import torch

    from .modeling import load_adapter, load_base_model, load_tokenizer

    tokenizer = load_tokenizer(settings.model)
    tokenizer.padding_side = "left"
    cuda = torch.cuda.is_available()
    model = load_base_model(settings.model, bf16=cuda and torch.cuda.is_bf16_supported(), device="cuda" if cuda else None)
    if settings.adapter:
        model = load_adapter(model, settings.adapter)
    model.config.use_cache = True
    model.eval()
    return model, tokenizer


def clean_text(text: str) -> str:
    """Generated text as a database and a labeler can take it: no NUL or other control characters
    (newlines and tabs stay), no lone surrogates, no trailing whitespace."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(c for c in text if c in "\n\t" or c >= " " and c != "\x7f").rstrip()


def write_jsonl(records: list[dict], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
