"""/api/projects/<slug>/prompts/ and /api/prompts/<id>/: prompts with their responses.

Blind labeling holds here as on the rank page: a labeler gets the texts only, with every
response's ``source`` and ``metadata`` and the prompt's ``metadata`` empty (they can tell which
model or person wrote a response); reviewers and admins get everything.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project, Prompt
from ..models import Response as ResponseModel
from ..selectors_labeling import labeling_is_blind
from .common import paginated

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
