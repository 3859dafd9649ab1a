"""Small pieces the API views share: bounded pagination, integer query parameters, error bodies."""

import re

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination

from ..safe_json import MAX_DB_INT, whole_number  # MAX_DB_INT: the largest id / offset any database compares with

# Query parameter schemas for OpenApiParameter: what ``int_param`` and a slug filter take.
ID = {"type": "integer", "minimum": 0, "maximum": MAX_DB_INT}
SLUG = {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


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

    def get_schema_operation_parameters(self, view):
        """DRF's two parameters, with what this class really takes: a whole number from 0 (a bigger
        limit than ``max_limit`` is clamped, not refused)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 0
        return parameters


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


def slug_param(request, name: str) -> str | None:
    """Query parameter ``name`` as a slug (the ``SLUG`` pattern; 400 otherwise), None when absent."""
    raw = _single(request, name)
    if raw is not None and not SLUG_RE.fullmatch(raw):
        raise ValidationError({name: [f"must be a slug: letters, digits, '-' and '_' (got {raw[:40]!r})"]})
    return raw


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


def json_integer(data):
    """``data`` as an int when JSON Schema calls it an integer (``93`` and ``93.0`` alike), else None."""
    if isinstance(data, bool):
        return None
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return data if isinstance(data, int) else None


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        number = json_integer(data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


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


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_DB_INT})
class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id: a JSON integer from 1 (400 otherwise); one that names nothing visible is a 404."""

    def to_internal_value(self, data):
        if json_integer(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        data = json_integer(data)
        if not 1 <= data <= MAX_DB_INT:
            raise ValidationError(f"must be an id from 1 to {MAX_DB_INT} (got {data})")
        found = self.get_queryset().filter(pk=data).first()
        if found is None:
            raise not_found(self.field_name, f"no {self.field_name} {data}")
        return found


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


class Conflict(APIException):
    """409: the request is well formed but clashes with what is stored (a taken slug)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflicts with an existing object"
    default_code = "conflict"


def not_found(field: str, message: str) -> NotFound:
    """404 for an object named in a query parameter or a body that does not exist (or is not visible):
    the request is well formed, so not a 400, and no schema can say which names exist. The body names
    the field, like a 400's: ``{"project": ["no project 'x'"]}``."""
    return NotFound({field: [message]})


class ErrorListSerializer(serializers.Serializer):
    """Body of a 400 from import: one line per problem, ``record N (id X): field: reason``."""

    errors = serializers.ListField(child=serializers.CharField())
