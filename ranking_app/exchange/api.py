"""/api/projects/<slug>/exports/ (admins): list and create snapshots; /api/exports/<id>/download/."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from ..models import ExportSnapshot, Project
from ..permissions import IsAdmin
from ..services.exports import FORMATS, export_create
from ..views.exchange import DOWNLOAD_TYPES, snapshot_download_response
from .common import StrictBooleanField, paginated


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
