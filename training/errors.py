"""Turn what a training run raised into one readable sentence for the job page."""

import errno

OOM_MESSAGE = (
    "out of GPU memory: lower the batch size or max_length, turn on gradient checkpointing, "
    "or use 4-bit quantization"
)


class EvaluationRequestError(ValueError):
    """An evaluation cannot be requested (or run) as asked; the message says why."""


def readable_error(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    if name == "OutOfMemoryError" or "CUDA out of memory" in text or "CUBLAS_STATUS_ALLOC_FAILED" in text:
        return OOM_MESSAGE
    if isinstance(exc, MemoryError):
        return "out of memory (RAM): lower the batch size or max_length, or use a smaller model"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"disk full while writing {exc.filename or 'training output'}: free space in the data directory"
    if name == "TimeLimitExceeded":
        return "time limit exceeded: the job ran longer than GRPO_TRAINING_TIME_LIMIT_HOURS"
    if "bitsandbytes" in text and ("CUDA" in text or "GPU" in text or "not" in text):
        return f"quantization unavailable: {_first_line(text)} (use quantization 'none' on this machine)"
    if name in {"DataError", "ModelLoadError", "ValueError", "ConfigError"}:
        return _first_line(text) or name
    return f"{name}: {_first_line(text)}" if text else name


def _first_line(text: str, limit: int = 500) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
