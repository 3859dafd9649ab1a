"""Small pieces the API views share: bounded pagination, integer query parameters, error bodies."""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_DB_INT = 2**63 - 1  # the largest id / offset any supported database can compare with


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` clamped to ``max_limit``, ``?offset=`` to the database's integer range (a bigger
    offset is past the end anyway): no huge number ever reaches the SQL."""

    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_DB_INT)


def paginated(request, view, queryset, serializer_class, context: dict | None = None):
    """A LimitOffset page of ``queryset`` (``?limit=&offset=``), serialized with ``serializer_class``."""
    paginator = BoundedLimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


def int_param(request, name: str) -> int | None:
    """Query parameter ``name`` as an id (ASCII digits, in the database's range), None when absent;
    anything else is a 400 naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_DB_INT:
        raise ValidationError({name: [f"must be a whole number from 0 to {MAX_DB_INT} (got {raw[:40]!r})"]})
    return int(raw)


class ErrorListSerializer(serializers.Serializer):
    """Body of a 400 from import: one line per problem, ``record N (id X): field: reason``."""

    errors = serializers.ListField(child=serializers.CharField())
