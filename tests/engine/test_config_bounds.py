"""Every numeric setting of RankedGRPOConfig has a documented range from one place (``CHECKS``), and
values below it, above it, NaN and infinities are refused by ``errors()`` naming the field and range."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from training.engine import RankedGRPOConfig
from training.engine.config_fields import CHECKS, USER_FIELDS, bounds

REQUIRED = {"model_name_or_path": "m", "data_path": "d"}


def numeric_fields() -> list[str]:
    """Numeric fields a user can set: the config's own, the user-facing ones, and every checked one."""
    fields = {f.name: f for f in dataclasses.fields(RankedGRPOConfig)}
    reachable = set(RankedGRPOConfig.__annotations__) | set(USER_FIELDS) | set(CHECKS)
    return sorted(name for name in reachable
                  if re.search(r"\b(int|float)\b", str(fields[name].type)) and "bool" not in str(fields[name].type))


NUMERIC = numeric_fields()


def test_the_enumeration_finds_the_settings_of_the_issue():
    assert {"beta", "margin", "lora_alpha", "kl_warning", "tie_strength", "learning_rate", "seed"} <= set(NUMERIC)


@pytest.mark.parametrize("name", NUMERIC)
def test_every_numeric_setting_has_bounds(name):
    assert name in bounds(), f"{name}: give its CHECKS entry a Bounds (see _number_in / _integer_in)"


def _outside(limits) -> dict[str, object]:
    above = limits.high + 1 if limits.integer else limits.high * 2 + 1
    return {"below": limits.low - 1, "above": above, "nan": float("nan"), "inf": float("inf"),
            "-inf": float("-inf"), "1e308": 1e308, "text nan": "nan", "text number": "1"}


@pytest.mark.parametrize("name", NUMERIC)
def test_below_above_nan_and_infinity_are_refused_naming_the_range(name):
    limits = bounds()[name]
    for label, value in _outside(limits).items():
        errors = RankedGRPOConfig.errors({**REQUIRED, name: value})
        assert name in errors, f"{name}={value!r} ({label}) was accepted"
        ends = re.search(r"[\[(][^\])]*[\])]", str(limits)).group()
        assert f"must be {limits}" in errors[name] and ends in errors[name], errors[name]


@pytest.mark.parametrize("name", NUMERIC)
def test_the_closed_ends_of_a_range_are_accepted_and_the_open_ones_refused(name):
    limits = bounds()[name]
    for end, is_open in ((limits.low, limits.low_open), (limits.high, limits.high_open)):
        errors = RankedGRPOConfig.errors({**REQUIRED, name: end})
        assert (name in errors) == is_open, (name, end, errors.get(name))


def test_the_message_names_the_range():
    errors = RankedGRPOConfig.errors({**REQUIRED, "lora_alpha": 1e308, "beta": float("nan"), "kl_warning": 0})
    assert errors == {"lora_alpha": "must be a number in [1, 4096] (got 1e+308)",
                      "beta": "must be a number in (0, 100] (got nan)",
                      "kl_warning": "must be a number in (0, 1000000] (got 0)"}


def test_field_help_carries_the_bounds_for_the_form_and_the_docs():
    help_ = RankedGRPOConfig.field_help()
    assert help_["beta"]["bounds"] == "a number in (0, 100]"
    assert help_["lora_r"]["bounds"] == "an integer in [1, 4096]"
    assert "bounds" not in help_["loss"]


def bounds_table() -> str:
    """The table of docs/training.md#bounds; regenerate it with
    ``python -c "from tests.engine.test_config_bounds import bounds_table; print(bounds_table())"``."""
    rows = [f"| `{name}` | {limits} |" for name, limits in sorted(bounds().items())]
    return "\n".join(["| field | range |", "| --- | --- |", *rows])


def test_the_docs_list_the_bounds_as_the_engine_has_them():
    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    documented = text.split("<!-- bounds table: generated from training.engine.config_fields.bounds() -->\n", 1)[1]
    assert documented.split("\n<!-- end bounds table -->", 1)[0] == bounds_table()
