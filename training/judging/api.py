"""REST API of model annotators (admins): queue a "Rank with a model" job (POST /api/jobs/judge/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ranking_app.api.common import StrictIntegerField
from ranking_app.permissions import IsAdmin
from training.engine.judge_settings import DEFAULT_TEMPLATE, DEFAULT_VERDICT, JUDGE_KINDS

from ..api.serializers import ProjectInput, job_detail
from ..models import TrainingJob
from ..selectors import job_get
from ..services.job_config import JobConfigError
from .services import judging_launch


class JudgingLaunchInput(ProjectInput):
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                  help_text="hub id or folder (reward model or causal LM); empty: the adapter job's base")
    adapter_job = StrictIntegerField(required=False, allow_null=True, default=None,
                                     help_text="a finished training job whose adapter goes on the model")
    round = StrictIntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=100000,
                               help_text="only the prompts of this round; null: every prompt with responses")
    kind = serializers.ChoiceField(choices=JUDGE_KINDS, default="auto")
    verdict = serializers.CharField(default=DEFAULT_VERDICT, max_length=100, trim_whitespace=False)
    template = serializers.CharField(default=DEFAULT_TEMPLATE, max_length=20000, trim_whitespace=False)
    tie_epsilon = serializers.FloatField(default=0.0, min_value=0.0, max_value=1e6)
    max_length = StrictIntegerField(default=512, min_value=16, max_value=131072)
    batch_size = StrictIntegerField(default=8, min_value=1, max_value=4096)


SETTINGS = ("kind", "verdict", "template", "tie_epsilon", "max_length", "batch_size")


class JudgingLaunchApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="judging_launch", summary="Rank a project's responses with a model (a model annotator)",
                   request=JudgingLaunchInput,
                   responses={201: OpenApiResponse(description="the queued judging job"),
                              400: OpenApiResponse(description="field errors")})
    def post(self, request):
        given = JudgingLaunchInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            adapter_job = _adapter_job(data)
            job = judging_launch(project=data["project"], model=data["model"], adapter_job=adapter_job,
                                 settings={k: data[k] for k in SETTINGS}, round_number=data["round"],
                                 created_by=request.user)  # fmt: skip
        except JobConfigError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(job_detail(job_get(pk=job.pk)), status=status.HTTP_201_CREATED)


def _adapter_job(data: dict) -> TrainingJob | None:
    if data["adapter_job"] is None:
        return None
    job = TrainingJob.objects.filter(pk=data["adapter_job"]).first()
    if job is None:
        raise JobConfigError({"adapter_job": [f"no training job {data['adapter_job']}"]})
    return job
