"""/api/projects/<slug>/exports/ (admins): list and create snapshots; /api/exports/<id>/download/;
/api/projects/<slug>/import/ (admins): a multipart file upload or a JSON body of records."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from ..api.common import ErrorListSerializer, StrictBooleanField, paginated
from ..api.parsers import SafeJSONParser
from ..models import ExportSnapshot, Project
from ..permissions import IsAdmin
from ..safe_json import whole_number
from .exports import FORMATS, export_create
from .formats import FORMATS as IMPORT_FORMATS
from .formats import ImportOptions, to_exchange
from .imports import import_file, rankings_import
from .jsonl import ExchangeError
from .views import DOWNLOAD_TYPES, snapshot_download_response


class ExportOutputSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null: made by a command or a deleted user"
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = ["id", "project", "format", "filters", "counts", "sha256", "path", "created_by", "created_at", "download_url"]

    def get_download_url(self, snapshot) -> str:
        return reverse("api:export-download", args=[snapshot.pk], request=self.context.get("request"))


class ExportCreateInputSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    validated_only = StrictBooleanField(default=True, help_text="Only prompts the validation rule accepts.")


class ProjectExportListApi(GenericAPIView):
    permission_classes = [IsAdmin]
    serializer_class = ExportOutputSerializer

    @extend_schema(operation_id="project_exports_list", responses=ExportOutputSerializer(many=True))
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        snapshots = ExportSnapshot.objects.filter(project=project).select_related("project", "created_by")
        return paginated(request, self, snapshots, ExportOutputSerializer, context={"request": request})

    @extend_schema(
        operation_id="project_exports_create",
        request=ExportCreateInputSerializer,
        responses={201: ExportOutputSerializer},
    )
    def post(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        data = ExportCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot = export_create(project=project, created_by=request.user, **data.validated_data)
        return Response(ExportOutputSerializer(snapshot, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ExportDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="exports_retrieve", responses=ExportOutputSerializer)
    def get(self, request, pk: int):
        snapshot = get_object_or_404(ExportSnapshot.objects.select_related("project", "created_by"), pk=pk)
        return Response(ExportOutputSerializer(snapshot, context={"request": request}).data)


class ExportDownloadApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="exports_download",
        description="The snapshot file (JSON, JSONL) or, for `hf`, a zip of the DatasetDict directory.",
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY)
            for content_type in [*DOWNLOAD_TYPES.values(), "application/zip"]
        },
    )
    def get(self, request, pk: int):
        return snapshot_download_response(get_object_or_404(ExportSnapshot, pk=pk))

OVERWRITE_HELP = (
    "Replace rankings that people made or changed in the app when the file's differ (each is reported "
    "under `overwritten`). Without it such a record is refused (400 naming the record and the annotator)."
)


class ImportFormatSerializer(serializers.Serializer):
    source = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=43, default="import")
    format = serializers.ChoiceField(choices=IMPORT_FORMATS, default="auto", help_text="The records' format; auto sniffs it.")
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
            report = self._import(request, project)
        except ExchangeError as error:
            return Response({"errors": error.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ImportOutputSerializer(report).data)

    def _import(self, request, project: Project):
        """A bare array of exchange records, a multipart file (``import_file``) or a JSON body of records."""
        if isinstance(request.data, list):
            return rankings_import(project=project, records=to_exchange(request.data), user=request.user)
        upload = "file" in request.FILES
        data = (ImportUploadInputSerializer if upload else ImportRecordsInputSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        options = ImportOptions.from_text(
            label_config=values.get("label_config"), buckets=values.get("buckets", ""), score=values.get("score", "")
        )
        kept = {"source": values["source"], "user": request.user, "overwrite": values["overwrite"]}
        if upload:
            return import_file(file=values["file"], slug=project.slug, format=values["format"], options=options, **kept)
        records = to_exchange(values["records"], values["format"], options)
        return rankings_import(project=project, records=records, **kept)
