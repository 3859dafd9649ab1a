"""/api/projects/: list (everyone signed in), create (admins), detail."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project
from ..permissions import IsAdmin
from ..selectors import project_list
from .common import StrictModelSerializer, paginated


class ProjectOutputSerializer(serializers.ModelSerializer):
    n_prompts = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "slug", "name", "guidelines", "target_annotators", "agreement_threshold",
            "allow_ties", "allow_partial", "n_prompts", "created_at", "updated_at",
        ]

    def get_n_prompts(self, project) -> int:
        annotated = getattr(project, "n_prompts", None)
        return annotated if annotated is not None else project.prompts.count()


class ProjectCreateInputSerializer(StrictModelSerializer):
    class Meta:
        model = Project
        fields = [
            "slug", "name", "guidelines", "target_annotators", "agreement_threshold", "allow_ties", "allow_partial",
        ]
        # The ranges below, also in the OpenAPI schema.
        extra_kwargs = {
            "target_annotators": {"min_value": 1, "max_value": 100},
            "agreement_threshold": {"min_value": 0.0, "max_value": 1.0},
        }

    def validate_agreement_threshold(self, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise serializers.ValidationError("must be between 0 and 1 (Kendall's W)")
        return value

    def validate_target_annotators(self, value: int) -> int:
        if not 1 <= value <= 100:
            raise serializers.ValidationError("must be between 1 and 100")
        return value


class ProjectListApi(GenericAPIView):
    serializer_class = ProjectOutputSerializer

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(operation_id="projects_list", responses=ProjectOutputSerializer(many=True))
    def get(self, request):
        return paginated(request, self, project_list(user=request.user), ProjectOutputSerializer)

    @extend_schema(
        operation_id="projects_create", request=ProjectCreateInputSerializer, responses={201: ProjectOutputSerializer}
    )
    def post(self, request):
        data = ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            project = Project.objects.create(**data.validated_data, created_by=request.user)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(operation_id="projects_retrieve", responses=ProjectOutputSerializer)
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        return Response(ProjectOutputSerializer(project).data)
