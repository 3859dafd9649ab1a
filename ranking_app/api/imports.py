"""/api/projects/<slug>/import/ (admins): a multipart file upload or a JSON body of records."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exchange import ExchangeError, read_exchange_file
from ..importers import FORMATS, ImportOptions, to_exchange
from ..models import Project
from ..permissions import IsAdmin
from ..safe_json import whole_number
from ..services.imports import rankings_import
from .common import ErrorListSerializer, StrictBooleanField
from .parsers import SafeJSONParser

OVERWRITE_HELP = (
    "Replace rankings that people made or changed in the app when the file's differ (each is reported "
    "under `overwritten`). Without it such a record is refused (400 naming the record and the annotator)."
)


class ImportFormatSerializer(serializers.Serializer):
    source = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=43, default="import")
    format = serializers.ChoiceField(choices=FORMATS, default="auto", help_text="The records' format; auto sniffs it.")
    label_config = serializers.CharField(required=False, allow_blank=True, max_length=1_000_000,
                                         help_text="label-studio: the labeling config (XML), for the bucket order.")
    buckets = serializers.CharField(required=False, allow_blank=True, help_text="label-studio: bucket names best first, comma-separated.")
    score = serializers.CharField(required=False, allow_blank=True, help_text="ultrafeedback: overall, fine-grained or an aspect.")


class ImportUploadInputSerializer(ImportFormatSerializer):
    file = serializers.FileField(help_text="JSON array or JSONL: exchange records or a supported tool's export.")
    overwrite = serializers.BooleanField(default=False, help_text=OVERWRITE_HELP)


class ImportRecordsInputSerializer(ImportFormatSerializer):
    records = serializers.ListField(child=serializers.JSONField(), help_text="Records, one per prompt (or per pair / message).")
    overwrite = StrictBooleanField(default=False, help_text=OVERWRITE_HELP)


class ImportOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rankings_saved = serializers.IntegerField()
    users_created = serializers.ListField(child=serializers.CharField())
    overwritten = serializers.ListField(
        child=serializers.CharField(), help_text="Rankings people had changed that this import replaced (overwrite)."
    )


class ProjectImportApi(APIView):
    permission_classes = [IsAdmin]
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]

    @extend_schema(
        operation_id="project_import",
        description="Import exchange records (or a Label Studio, Argilla, UltraFeedback, TRL or OpenAssistant "
        "export, `format`) into the project: atomic (any bad record -> 400 listing every "
        "problem, nothing changed) and idempotent by record id. Send a multipart `file`, or a JSON body "
        "`{\"records\": [...], \"source\": \"import\"}` (a bare JSON array of records works too).",
        request={
            "multipart/form-data": ImportUploadInputSerializer,
            "application/json": ImportRecordsInputSerializer,
        },
        responses={200: ImportOutputSerializer, 400: ErrorListSerializer},
    )
    def post(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        length, limit = whole_number(request.META.get("CONTENT_LENGTH") or "0") or 0, settings.IMPORT_MAX_FILE_BYTES
        if length > limit:  # checked before the body is parsed
            return Response({"errors": [f"file: too big ({length:,} bytes; the limit is {limit:,} bytes)"]}, status=400)
        try:
            records, source, overwrite = self._records(request)
            report = rankings_import(
                project=project, records=records, source=source, user=request.user, overwrite=overwrite
            )
        except ExchangeError as error:
            return Response({"errors": error.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ImportOutputSerializer(report).data)

    def _records(self, request) -> tuple[list, str, bool]:
        """(exchange records, source, overwrite) from a bare array, a multipart file or a JSON body."""
        if isinstance(request.data, list):
            return to_exchange(request.data), "import", False
        upload = "file" in request.FILES
        data = (ImportUploadInputSerializer if upload else ImportRecordsInputSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rows = read_exchange_file(values["file"]) if upload else values["records"]
        options = ImportOptions.from_text(
            label_config=values.get("label_config"), buckets=values.get("buckets", ""), score=values.get("score", "")
        )
        return to_exchange(rows, values["format"], options), values["source"], values["overwrite"]
