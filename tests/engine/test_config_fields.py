"""The torch-free half of the config (``training.engine.config_fields``) agrees with transformers and
is what ``RankedGRPOConfig`` validates with."""

import dataclasses
import subprocess
import sys

from transformers import TrainingArguments

from training.engine.config import RankedGRPOConfig
from training.engine.config_fields import TRAINING_ARGUMENT_DEFAULTS, USER_FIELDS, ConfigFields


def test_training_argument_defaults_are_transformers_own():
    theirs = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    ours = {f.name: f.default for f in dataclasses.fields(ConfigFields)}
    assert {name: theirs[name] for name in TRAINING_ARGUMENT_DEFAULTS} == TRAINING_ARGUMENT_DEFAULTS
    redeclared = {"output_dir", "gradient_accumulation_steps", "warmup_steps", "seed"}
    assert {name: ours[name] for name in redeclared} == {name: theirs[name] for name in redeclared}


def test_the_config_and_its_fields_give_the_same_help_and_errors():
    assert RankedGRPOConfig.field_help() == ConfigFields.field_help()
    assert set(ConfigFields.field_help()) == set(USER_FIELDS)
    given = {"model_name_or_path": "m", "data_path": "d.jsonl"}
    bad = {"learning_rate": 0, "loss": "nope", "lora_r": 0, "seed": -1, "warmup_steps": -2}
    assert RankedGRPOConfig.errors({**given, **bad}) == ConfigFields.errors({**given, **bad})
    assert set(ConfigFields.errors({**given, **bad})) == set(bad)
    assert ConfigFields.errors({**given, "lr_scheduler_type": "cosine"}) == {"lr_scheduler_type": "unknown setting"}
    assert RankedGRPOConfig.errors({**given, "lr_scheduler_type": "cosine"}) == {}  # a TrainingArguments field


def test_config_fields_import_no_torch():
    code = "import sys, training.engine.config_fields; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
