"""Merge a trained LoRA adapter into its base model: a full model that plain ``transformers``
loads and serves without peft (``python -m training.engine merge``)."""

from __future__ import annotations

from pathlib import Path

from .modeling import ModelLoadError, load_adapter, load_tokenizer


def merge_adapter(model_name_or_path: str, adapter_dir: str, output_dir: str) -> str:
    """Load the base model (unquantized, in its saved dtype), apply the adapter, fold the LoRA
    weights in with peft's ``merge_and_unload`` and save model + tokenizer to ``output_dir``.

    The tokenizer comes from the adapter folder when it holds one (``run_training`` saves it
    there), else from the base model. An existing non-empty ``output_dir`` is never overwritten.
    """
    from transformers import AutoModelForCausalLM

    output = Path(output_dir)
    if output.exists() and any(output.iterdir()):
        raise ModelLoadError(f"{output}: exists and is not empty (choose a new --output)")
    try:
        base = AutoModelForCausalLM.from_pretrained(model_name_or_path, dtype="auto")
    except Exception as error:  # hub/network/format errors come in many types
        raise ModelLoadError(f"cannot load model {model_name_or_path!r}: {str(error).strip().splitlines()[0]}") from None
    merged = load_adapter(base, adapter_dir).merge_and_unload()
    has_tokenizer = (Path(adapter_dir) / "tokenizer_config.json").is_file()
    tokenizer = load_tokenizer(adapter_dir if has_tokenizer else model_name_or_path)
    output.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(output)
    tokenizer.save_pretrained(output)
    return str(output)
