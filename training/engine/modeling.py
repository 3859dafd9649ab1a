"""Models: the offline tiny Llama, loading a base model (optionally 4/8-bit) with a LoRA adapter,
and per-response log-probabilities through TRL's fused LM head (no full-vocabulary logits kept)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


class ModelLoadError(ValueError):
    """The base model, tokenizer or adapter cannot be loaded; the message says why."""


def build_byte_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level tokenizer (256 byte tokens + <pad>, <s>, </s>) built without any download."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2}
    for symbol in sorted(alphabet):
        vocab[symbol] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=None))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>")


def make_tiny_model(
    out_dir: str | os.PathLike,
    *,
    hidden_size: int = 128,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    intermediate_size: int | None = None,
    seed: int = 0,
) -> str:
    """Save a random-init Llama (about 0.4M parameters by default, the CPU smoke preset's) and a byte tokenizer to ``out_dir``.

    Loadable with ``AutoModelForCausalLM``/``AutoTokenizer.from_pretrained(out_dir)``; returns the path.
    """
    tokenizer = build_byte_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or max(64, int(hidden_size * 8 / 3) // 64 * 64),  # bnb CPU 4-bit: multiples of 64
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=max(1, num_attention_heads // 2),
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return str(out_dir)


def load_tokenizer(name_or_path: str):
    """The tokenizer of a model, with a pad token (the EOS token when the model has none)."""
    if str(name_or_path).startswith(("/", ".", "~")) and not Path(name_or_path).expanduser().exists():
        raise ModelLoadError(f"model {name_or_path!r}: no such directory")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as error:  # hub/network/format errors come in many types
        raise ModelLoadError(f"cannot load tokenizer of model {name_or_path!r}: {_first_line(error)}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(quantization: str, compute_dtype: torch.dtype):
    """bitsandbytes settings for "4bit" (nf4, double quant) or "8bit"; None for "none"."""
    if quantization == "none":
        return None
    try:
        import bitsandbytes  # noqa: F401
        from transformers import BitsAndBytesConfig
    except Exception as error:
        raise ModelLoadError(f"quantization {quantization!r} needs bitsandbytes: {_first_line(error)}") from None
    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def load_base_model(name_or_path: str, *, quantization: str = "none", bf16: bool = False, device: str | None = None,
                    attn_implementation: str = "sdpa", device_map: str | None = None):
    """The base causal LM in fp32 (bf16 if asked), or quantized, with the attention kernel asked for
    (``attn_implementation``: sdpa, flash_attention_2 or eager); patched with TRL's fused LM head.
    ``device_map`` (transformers' "auto", "sequential", ...) spreads the layers over every visible GPU,
    for scoring a model larger than one; ``device`` is then unused."""
    from trl.trainer.utils import add_fused_lm_head

    dtype = torch.bfloat16 if bf16 else torch.float32
    kwargs = {"dtype": dtype, "attn_implementation": attn_implementation}
    quant = quantization_config(quantization, dtype)
    if quant is not None:
        kwargs["quantization_config"] = quant
    if device_map is not None:
        kwargs["device_map"], device = device_map, None
    elif quant is not None:
        kwargs["device_map"] = _quantized_device_map(device)
    try:
        model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    except Exception as error:
        raise ModelLoadError(f"cannot load model {name_or_path!r}: {_first_line(error)}") from None
    if quant is None and device is not None:
        model.to(device)
    model.config.use_cache = False
    add_fused_lm_head(model)
    return model


def _quantized_device_map(device: str | None) -> dict:
    if device is not None and str(device).startswith("cuda"):
        return {"": torch.device(device).index or 0}
    if device is None and torch.cuda.is_available():
        from accelerate import PartialState

        return {"": PartialState().local_process_index}
    return {"": "cpu"}


def add_lora_adapter(model, *, r: int, alpha: float, dropout: float, target_modules, quantized: bool,
                     gradient_checkpointing: bool = False):
    """Wrap ``model`` in a new trainable LoRA adapter (the base stays frozen). ``gradient_checkpointing``
    recomputes activations in the backward pass, quantized or not; the input embeddings then require
    grad so the checkpointed blocks (frozen base) still pass a gradient to the LoRA weights."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if quantized:
        keep_4bit_weights_differentiable(model)
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lora = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules,
                      task_type="CAUSAL_LM", bias="none")
    return get_peft_model(model, lora)


def keep_4bit_weights_differentiable(model) -> None:
    """Stop bitsandbytes from repacking 4-bit weights for its CPU inference kernel.

    On a CPU with AVX512-BF16, the first forward in eval mode without grad (the reference pass) repacks
    every ``Linear4bit`` weight for ``gemv_4bit``, and every later forward takes that kernel, which has no
    backward: training steps would silently lose the gradient through the frozen base layers (LoRA
    gradients off by ~100%, tests/engine/test_quantized_gradients.py). Training keeps the plain layout.
    """
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False


def load_adapter(model, adapter_dir: str):
    """Attach a saved (frozen) LoRA adapter to ``model`` for scoring."""
    from peft import PeftModel

    if not (Path(adapter_dir) / "adapter_config.json").is_file():
        raise ModelLoadError(f"{adapter_dir}: no adapter_config.json (not a saved LoRA adapter)")
    return PeftModel.from_pretrained(model, adapter_dir, is_trainable=False)


def response_logps(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   completion_mask: torch.Tensor) -> torch.Tensor:
    """Summed log-prob of each row's response tokens (completion_mask == 1) given what precedes them."""
    labels = input_ids.masked_fill(completion_mask == 0, -100)
    outputs = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                    fused_lm_head=True, use_cache=False)
    return outputs.log_probs.sum(dim=1)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
