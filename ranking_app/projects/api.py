"""/api/projects/: list (everyone signed in), create (admins), detail; /api/projects/<slug>/prompts/ and
/api/prompts/<id>/: prompts with their responses.

Blind labeling holds here as on the rank page: a labeler gets the texts only, with every
response's ``source`` and ``metadata`` and the prompt's ``metadata`` empty (they can tell which
model or person wrote a response); reviewers and admins get everything.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api.common import Conflict, StrictModelSerializer, paginated
from ..labeling.selectors import labeling_is_blind
from ..models import Project, Prompt
from ..models import Response as ResponseModel
from ..permissions import IsAdmin
from .selectors import project_list
from .services import project_create


class ProjectOutputSerializer(serializers.ModelSerializer):
    n_prompts = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "slug", "name", "guidelines", "target_annotators", "agreement_threshold",
            "allow_ties", "allow_partial", "queue_order", "n_prompts", "created_at", "updated_at",
        ]

    def get_n_prompts(self, project) -> int:
        annotated = getattr(project, "n_prompts", None)
        return annotated if annotated is not None else project.prompts.count()


class ProjectCreateInputSerializer(StrictModelSerializer):
    class Meta:
        model = Project
        fields = [
            "slug", "name", "guidelines", "target_annotators", "agreement_threshold", "allow_ties", "allow_partial", "queue_order",
        ]
        # The ranges below, also in the OpenAPI schema.
        extra_kwargs = {
            "slug": {"validators": []},  # a taken slug is a 409 (ProjectListApi.post), not a 400
            "target_annotators": {"min_value": 1, "max_value": 100},
            "agreement_threshold": {"min_value": 0.0, "max_value": 1.0},
        }


class ProjectListApi(GenericAPIView):
    serializer_class = ProjectOutputSerializer

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(operation_id="projects_list", responses=ProjectOutputSerializer(many=True))
    def get(self, request):
        return paginated(request, self, project_list(user=request.user), ProjectOutputSerializer)

    @extend_schema(
        operation_id="projects_create",
        request=ProjectCreateInputSerializer,
        responses={201: ProjectOutputSerializer, 409: OpenApiResponse(description="a project with this slug exists")},
    )
    def post(self, request):
        data = ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data["slug"]
        if Project.objects.filter(slug=slug).exists():
            raise Conflict({"slug": [f"a project with the slug {slug!r} exists"]})
        try:
            project = project_create(**data.validated_data, created_by=request.user)
        except DjangoValidationError as error:
            if "slug" in error.message_dict and Project.objects.filter(slug=slug).exists():  # created meanwhile
                raise Conflict({"slug": [f"a project with the slug {slug!r} exists"]}) from None
            raise serializers.ValidationError(error.message_dict) from None
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(operation_id="projects_retrieve", responses=ProjectOutputSerializer)
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        return Response(ProjectOutputSerializer(project).data)

BLIND_HELP = "Empty for labelers (blind labeling); reviewers and admins see it."


def _blind(serializer) -> bool:
    return serializer.context.get("blind", True)


class ResponseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResponseModel
        fields = ["position", "text", "source", "metadata"]
        extra_kwargs = {"source": {"help_text": BLIND_HELP}, "metadata": {"help_text": BLIND_HELP}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if _blind(self):
            data.update(source="", metadata={})
        return data


class PromptOutputSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    responses = ResponseOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Prompt
        fields = ["id", "external_id", "project", "text", "split", "metadata", "responses"]
        extra_kwargs = {"metadata": {"help_text": BLIND_HELP}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if _blind(self):
            data["metadata"] = {}
        return data


def _prompts():
    return Prompt.objects.select_related("project").prefetch_related("responses").order_by("id")


def _context(request) -> dict:
    return {"blind": labeling_is_blind(user=request.user)}


class PromptListApi(GenericAPIView):
    serializer_class = PromptOutputSerializer

    @extend_schema(operation_id="project_prompts_list", responses=PromptOutputSerializer(many=True))
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        prompts = _prompts().filter(project=project)
        return paginated(request, self, prompts, PromptOutputSerializer, context=_context(request))


class PromptDetailApi(APIView):
    @extend_schema(operation_id="prompts_retrieve", responses=PromptOutputSerializer)
    def get(self, request, pk: int):
        prompt = get_object_or_404(_prompts(), pk=pk)
        return Response(PromptOutputSerializer(prompt, context=_context(request)).data)
