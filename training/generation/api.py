"""REST API of the preference loop (admins): launch a generation job; read a project's rounds."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ranking_app.api.common import StrictIntegerField, not_found
from ranking_app.models import Project
from ranking_app.permissions import IsAdmin

from ..api.serializers import ProjectInput, job_detail
from ..models import TrainingJob
from ..selectors import job_get
from ..services.job_config import JobConfigError
from .selectors import project_timeline
from .services import PROMPT_SETS, SAMPLING_DEFAULTS, CandidateSource, generation_launch


class SourceInput(serializers.Serializer):
    count = StrictIntegerField(min_value=1, max_value=64, help_text="responses per prompt from this model")
    adapter_job = StrictIntegerField(required=False, allow_null=True, default=None,
                                     help_text="a finished training job whose adapter samples; null: the base model")


class GenerationLaunchInput(ProjectInput):
    prompt_set = serializers.ChoiceField(choices=PROMPT_SETS, default="empty")
    base_model = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    sources = SourceInput(many=True)
    sampling = serializers.DictField(required=False, default=dict,
                                     help_text=f"any of {', '.join(SAMPLING_DEFAULTS)} (defaults {SAMPLING_DEFAULTS})")


class GenerationLaunchApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="generation_launch", summary="Open the next round: generate candidates for its prompts",
                   request=GenerationLaunchInput,
                   responses={201: OpenApiResponse(description="the queued generation job"),
                              400: OpenApiResponse(description="field errors")})
    def post(self, request):
        given = GenerationLaunchInput(data=request.data)
        given.is_valid(raise_exception=True)
        data, project = given.validated_data, given.validated_data["project"]
        try:
            sources = [_source(project, s) for s in data["sources"]]
            job = generation_launch(project=project, sources=sources, base_model=data["base_model"],
                                    sampling=data["sampling"], prompt_set=data["prompt_set"], created_by=request.user)
        except JobConfigError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(job_detail(job_get(pk=job.pk)), status=status.HTTP_201_CREATED)


def _source(project: Project, given: dict) -> CandidateSource:
    if given["adapter_job"] is None:
        return CandidateSource(count=given["count"])
    job = TrainingJob.objects.filter(pk=given["adapter_job"]).first()
    if job is None:
        raise not_found("sources", f"no training job {given['adapter_job']}")
    return CandidateSource(count=given["count"], job=job)


class ProjectTimelineApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="project_rounds", summary="The preference loop of a project, round by round",
                   responses={200: OpenApiResponse(description="rounds, oldest first"),
                              404: OpenApiResponse(description="no such project")})
    def get(self, request, slug: str):
        project = get_object_or_404(Project, slug=slug)
        return Response([_round_json(entry) for entry in project_timeline(project=project)])


def _round_json(entry: dict) -> dict:
    generation = entry["generation"]
    return {
        "round": entry["number"],
        "prompts": entry["prompts"], "prompts_with_responses": entry["with_responses"],
        "rankings": entry["rankings"], "prompts_ranked": entry["ranked"],
        "generation_job": {"id": generation.pk, "status": generation.status} if generation else None,
        "training_jobs": [{"id": row["job"].pk, "status": row["job"].status, "metrics": row["metrics"]}
                          for row in entry["training_jobs"]],
    }  # fmt: skip
