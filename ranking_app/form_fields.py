"""Form fields that read numbers through the one ASCII parser (``safe_json.whole_number`` and
``decimal_number``): Django's own fields use ``int``/``float``, which read "٣" as 3 and "1_0" as 10.

``expected`` names the accepted range in the error ("an integer in [1, 4096]").
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .safe_json import decimal_number, whole_number


def _refusal(expected: str, value) -> ValidationError:
    return ValidationError(f"Enter {expected} in the digits 0-9 (got {str(value)[:40]!r}).", code="invalid")


class AsciiIntegerField(forms.IntegerField):
    def __init__(self, *, expected: str = "a whole number", **kwargs):
        self.expected = expected
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = whole_number(str(value), signed=True)
        if number is None:
            raise _refusal(self.expected, value)
        return number


class AsciiFloatField(forms.FloatField):
    def __init__(self, *, expected: str = "a finite number (0.1, 1e-4)", **kwargs):
        self.expected = expected
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        number = decimal_number(str(value))
        if number is None:
            raise _refusal(self.expected, value)
        return number


class AsciiModelChoiceField(forms.ModelChoiceField):
    """A choice by primary key: ASCII digits only (the model field's ``int`` would read "٣" as 3)."""

    def to_python(self, value):
        if value in self.empty_values or self.to_field_name or isinstance(value, self.queryset.model):
            return super().to_python(value)
        if whole_number(str(value)) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)
