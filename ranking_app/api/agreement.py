"""GET /api/projects/<slug>/agreement/: the project's agreement figures (reviewers and admins).

The body is exactly what ``python manage.py agreement --project SLUG --json`` prints.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project
from ..permissions import IsReviewer
from ..services.agreement import agreement_payload

AgreementOutput = inline_serializer(
    name="ProjectAgreement",
    fields={
        "krippendorff_alpha": serializers.FloatField(allow_null=True),
        "mean_kendall_w": serializers.FloatField(allow_null=True),
        "status_counts": serializers.DictField(child=serializers.IntegerField()),
        "items": inline_serializer(
            name="PromptAgreement",
            many=True,
            fields={
                "id": serializers.CharField(help_text="The prompt's external id."),
                "kendall_w": serializers.FloatField(allow_null=True),
                "n_annotators": serializers.IntegerField(help_text="Submitted rankings."),
                "status": serializers.ChoiceField(choices=["validated", "needs_review", "in_progress"]),
            },
        ),
        "annotators": inline_serializer(
            name="AnnotatorAgreement",
            many=True,
            fields={
                "annotator": serializers.CharField(),
                "agreement": serializers.FloatField(
                    allow_null=True, help_text="Mean Kendall tau-b with the leave-one-out consensus."
                ),
                "count": serializers.IntegerField(help_text="Submitted rankings."),
            },
        ),
    },
)


class ProjectAgreementApi(APIView):
    """Krippendorff's alpha, Kendall's W per prompt, statuses and annotator agreement (cached)."""

    permission_classes = [IsReviewer]

    @extend_schema(responses=AgreementOutput, tags=["agreement"], summary="Agreement figures of a project")
    def get(self, request, slug: str) -> Response:
        project = get_object_or_404(Project, slug=slug)
        return Response(agreement_payload(project=project))
