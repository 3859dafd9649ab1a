"""/api/projects/<slug>/prompts/ and /api/prompts/<id>/: prompts with their responses."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project, Prompt
from ..models import Response as ResponseModel
from .common import paginated


class ResponseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResponseModel
        fields = ["position", "text", "source", "metadata"]


class PromptOutputSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    responses = ResponseOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Prompt
        fields = ["id", "external_id", "project", "text", "split", "metadata", "responses"]


def _prompts():
    return Prompt.objects.select_related("project").prefetch_related("responses").order_by("id")


class PromptListApi(GenericAPIView):
    serializer_class = PromptOutputSerializer

    @extend_schema(operation_id="project_prompts_list", responses=PromptOutputSerializer(many=True))
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        return paginated(request, self, _prompts().filter(project=project), PromptOutputSerializer)


class PromptDetailApi(APIView):
    @extend_schema(operation_id="prompts_retrieve", responses=PromptOutputSerializer)
    def get(self, request, pk: int):
        return Response(PromptOutputSerializer(get_object_or_404(_prompts(), pk=pk)).data)
