"""Launch-form presets and the grouping of the engine's hyperparameters on the form.

Values are RankedGRPOConfig fields; anything a preset leaves out takes the engine's default.
"""

from django.conf import settings

# Fields the job system sets itself; never on the form.
SYSTEM_FIELDS = ("output_dir", "data_path")

FIELD_GROUPS = (
    ("Model", ("model_name_or_path", "quantization")),
    ("Loss", ("loss", "weighting", "beta", "margin", "normalize", "ties", "tie_strength", "pair_targets",
              "length_normalize")),
    ("LoRA adapter", ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules")),
    ("Optimisation", ("learning_rate", "warmup_steps", "num_train_epochs", "per_device_train_batch_size",
                      "gradient_accumulation_steps", "max_length", "max_prompt_length", "activation_checkpointing",
                      "seed")),
    ("Speed", ("prefix_sharing", "max_tokens_per_batch", "attn_implementation")),
    ("Validation and best checkpoint", ("validation_fraction", "eval_steps", "load_best", "patience")),
    ("Logging and checkpoints", ("logging_steps", "save_steps", "kl_samples", "kl_warning")),
    ("Evaluation", ("primary_metric",)),
)  # fmt: skip

# The engine's defaults of the loss options, written out so every preset fills every form field.
LOSS_DEFAULTS = {"normalize": "group", "ties": "ignore", "tie_strength": 1.0, "pair_targets": "consensus",
                 "length_normalize": False}


def tiny_model_path() -> str:
    """Where `make run` builds the offline tiny Llama (python -m training.engine make-tiny-model)."""
    return str(settings.MODELS_DIR / "tiny-llama")


def presets() -> dict[str, dict]:
    return {
        "cpu-smoke": {
            "label": "CPU smoke run (tiny local model; under 2 minutes: measured 13-35 s on 2 busy CPU cores)",
            "config": {
                "model_name_or_path": tiny_model_path(), "quantization": "none", "loss": "grpo",
                "weighting": "none", "beta": 0.1, "margin": 0.0, **LOSS_DEFAULTS, "lora_r": 8, "lora_alpha": 16,
                "lora_dropout": 0.0, "lora_target_modules": "all-linear", "learning_rate": 0.003,
                "warmup_steps": 0.1, "num_train_epochs": 2.0, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1,
                # the byte tokenizer: 128 tokens keep the opening ~80 characters of each answer, where the
                # demo's quality shows (a direct answer or filler); docs/benchmarks.md has the measured run
                "max_length": 128, "max_prompt_length": 48, "activation_checkpointing": False, "seed": 42,
                "prefix_sharing": "auto", "max_tokens_per_batch": None,
                "logging_steps": 1, "save_steps": 10,
                # two KL estimates of 4 samples each; the demo peaks near 3 nats, under the default threshold
                "eval_steps": 0.5, "kl_samples": 4, "kl_warning": 10.0,
            },
        },
        "gpu-qlora": {
            "label": "GPU QLoRA (4-bit base, 1.5B instruct model from the Hugging Face hub)",
            "config": {
                "model_name_or_path": "Qwen/Qwen2.5-1.5B-Instruct", "quantization": "4bit", "loss": "grpo",
                "weighting": "log", "beta": 0.1, "margin": 0.0, **LOSS_DEFAULTS, "lora_r": 16, "lora_alpha": 32,
                "lora_dropout": 0.05, "lora_target_modules": "all-linear", "learning_rate": 0.0001,
                "warmup_steps": 0.0, "num_train_epochs": 2.0, "per_device_train_batch_size": 2, "gradient_accumulation_steps": 8,
                "max_length": 1024, "max_prompt_length": 512, "activation_checkpointing": True, "seed": 42,
                # the padded tokens of 2 prompts x 4 responses x 1024 at most, now also for groups of 9 (OASST)
                "prefix_sharing": "auto", "max_tokens_per_batch": 8192,
                "logging_steps": 5, "save_steps": 100,
            },
        },
    }  # fmt: skip


DEFAULT_PRESET = "cpu-smoke"
