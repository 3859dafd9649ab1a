"""REST API of training jobs under /api/jobs/ (admins only). One view per endpoint."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ranking_app.api.common import SLUG, BoundedLimitOffsetPagination, choice_param, not_found, slug_param
from ranking_app.models import Project
from ranking_app.permissions import IsAdmin

from ..models import TrainingJob
from ..selectors import job_get, job_list
from ..services.job_config import JobConfigError
from ..services.jobs import JobStateError, job_cancel, job_launch, job_resume
from .serializers import JobLaunchInput, job_detail, job_summary, launch_errors


def _job(pk: int) -> TrainingJob:
    try:
        return job_get(pk=pk)
    except TrainingJob.DoesNotExist:
        raise Http404(f"no training job {pk}") from None


class JobListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="jobs_list", summary="List training jobs (newest first)",
                   parameters=[OpenApiParameter("project", SLUG, description="project slug (404 when none)"),
                               OpenApiParameter("status", str, enum=TrainingJob.Status.values)],
                   responses={200: OpenApiResponse(description="paginated job summaries")})
    def get(self, request):
        slug = slug_param(request, "project")
        project = Project.objects.filter(slug=slug).first() if slug else None
        if slug and project is None:
            raise not_found("project", f"no project {slug!r}")
        jobs = job_list(project=project, status=choice_param(request, "status", TrainingJob.Status.values))
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response([job_summary(job) for job in page])

    @extend_schema(operation_id="jobs_launch", summary="Launch a training job", request=JobLaunchInput,
                   responses={201: OpenApiResponse(description="the queued job"),
                              400: OpenApiResponse(description="field errors; hyperparameters under `config`")})
    def post(self, request):
        given = JobLaunchInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            job = job_launch(project=data["project"], config=data["config"], created_by=request.user, preset=data["preset"],
                             name=data["name"], validated_only=data["validated_only"], rounds=data["rounds"] or None)
        except JobConfigError as exc:
            return Response(launch_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(job_detail(job_get(pk=job.pk)), status=status.HTTP_201_CREATED)


class JobDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="jobs_detail", summary="A job: status, progress, metrics series, evaluation before/after",
                   responses={200: OpenApiResponse(description="the job"), 404: OpenApiResponse(description="no such job")})
    def get(self, request, pk: int):
        return Response(job_detail(_job(pk)))


class _JobActionApi(APIView):
    # POST applies ``job_action`` (a jobs service) to job ``pk``: the job, or 409 when its state refuses.
    # (A comment, not a docstring: drf-spectacular would publish a docstring as the operation's description.)
    permission_classes = [IsAdmin]
    job_action = None

    def post(self, request, pk: int):
        return _act(pk, type(self).job_action)


def _action_responses(refused: str) -> dict:
    return {200: OpenApiResponse(description="the job"), 409: OpenApiResponse(description=refused)}


@extend_schema_view(post=extend_schema(operation_id="jobs_cancel", summary="Cancel a queued, running or interrupted job",
                                       request=None, responses=_action_responses("not cancellable")))
class JobCancelApi(_JobActionApi):
    job_action = staticmethod(job_cancel)


@extend_schema_view(post=extend_schema(
    operation_id="jobs_resume", summary="Resume an interrupted, cancelled or failed job from its last checkpoint",
    request=None, responses=_action_responses("not resumable")))
class JobResumeApi(_JobActionApi):
    job_action = staticmethod(job_resume)


def _act(pk: int, action) -> Response:
    job = _job(pk)
    try:
        action(job=job)
    except JobStateError as exc:
        return Response({"detail": str(exc), "status": job.status}, status=status.HTTP_409_CONFLICT)
    return Response(job_detail(job_get(pk=pk)))
