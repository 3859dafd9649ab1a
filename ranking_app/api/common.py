"""Small pieces the API views share: bounded pagination, integer query parameters, error bodies."""

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from ..safe_json import MAX_DB_INT, whole_number  # MAX_DB_INT: the largest id / offset any database compares with


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` clamped to ``max_limit``, ``?offset=`` to the database's integer range (a bigger
    offset is past the end anyway): no huge number ever reaches the SQL. Anything but one plain
    non-negative integer is a 400 (DRF would silently use the default)."""

    max_limit = 1000

    def get_limit(self, request):
        limit = _whole(request, self.limit_query_param, maximum=None)
        return self.default_limit if limit is None else max(1, min(limit, self.max_limit))

    def get_offset(self, request):
        return min(_whole(request, self.offset_query_param, maximum=None) or 0, MAX_DB_INT)


def paginated(request, view, queryset, serializer_class, context: dict | None = None):
    """A LimitOffset page of ``queryset`` (``?limit=&offset=``), serialized with ``serializer_class``."""
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


def _single(request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["given more than once"]})
    return values[0] if values else None


def _whole(request, name: str, maximum: int | None = MAX_DB_INT) -> int | None:
    raw = _single(request, name)
    if raw is None:
        return None
    value = whole_number(raw, 10**30 if maximum is None else maximum)  # None: any size, the caller clamps
    if value is None or raw != raw.strip():
        bound = f" from 0 to {maximum}" if maximum is not None else ""
        raise ValidationError({name: [f"must be a whole number{bound} (got {raw[:40]!r})"]})
    return value


def int_param(request, name: str) -> int | None:
    """Query parameter ``name`` as an id (ASCII digits, in the database's range), None when absent;
    anything else is a 400 naming the parameter."""
    return _whole(request, name)


def choice_param(request, name: str, choices) -> str | None:
    """Query parameter ``name``, one of ``choices`` (400 naming them otherwise), None when absent."""
    raw = _single(request, name)
    if raw is not None and raw not in choices:
        raise ValidationError({name: [f"must be one of {', '.join(choices)} (got {raw[:40]!r})"]})
    return raw


# JSON types as the OpenAPI schema states them: DRF's own fields also take "5" for 5, 0 for false,
# false for 0.0, which the schema (and any generated client) says are errors.
class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class _StrictText:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StrictText, serializers.CharField):
    pass


class StrictSlugField(_StrictText, serializers.SlugField):
    pass


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 <= data <= MAX_DB_INT:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
    }


class ErrorListSerializer(serializers.Serializer):
    """Body of a 400 from import: one line per problem, ``record N (id X): field: reason``."""

    errors = serializers.ListField(child=serializers.CharField())
