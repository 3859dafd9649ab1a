"""Small pieces the API views share: pagination of a queryset and the error body of a bad import."""

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination


def paginated(request, view, queryset, serializer_class, context: dict | None = None):
    """A LimitOffset page of ``queryset`` (``?limit=&offset=``), serialized with ``serializer_class``."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


class ErrorListSerializer(serializers.Serializer):
    """Body of a 400 from import: one line per problem, ``record N (id X): field: reason``."""

    errors = serializers.ListField(child=serializers.CharField())
