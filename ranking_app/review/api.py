"""GET /api/projects/<slug>/agreement/: the project's agreement figures (reviewers and admins).

The body is exactly what ``python manage.py agreement --project SLUG --json`` prints.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project
from ..permissions import IsReviewer
from .agreement_store import agreement_payload

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
        "models_included": serializers.BooleanField(help_text="Model annotators counted as people (?include_models=1)."),
        "model_annotators": inline_serializer(
            name="ModelAnnotatorAgreement",
            many=True,
            fields={
                "annotator": serializers.CharField(help_text="model:<model>, a user flagged as a model annotator."),
                "count": serializers.IntegerField(help_text="Submitted rankings."),
                "agreement": serializers.FloatField(allow_null=True, help_text="Mean tau-b with the people's consensus."),
                "n_compared": serializers.IntegerField(),
                "alpha_without": serializers.FloatField(allow_null=True, help_text="People's alpha on its prompts."),
                "alpha_with": serializers.FloatField(allow_null=True, help_text="The same with the model added."),
                "metrics": serializers.JSONField(allow_null=True, help_text="{metric: {value, low, high}} vs the consensus."),
                "chance": serializers.JSONField(allow_null=True, help_text="{metric: value} of a random ranking."),
                "strata": serializers.JSONField(allow_null=True, help_text="{stratum: {accuracy, n_pairs, human_ceiling}}."),
            },
        ),
    },
)


class ProjectAgreementApi(APIView):
    """Krippendorff's alpha, Kendall's W per prompt, statuses and annotator agreement (cached)."""

    permission_classes = [IsReviewer]

    @extend_schema(responses=AgreementOutput, tags=["agreement"], summary="Agreement figures of a project",
                   parameters=[OpenApiParameter("include_models", bool, description="Count model annotators as people.")])
    def get(self, request, slug: str) -> Response:
        project = get_object_or_404(Project, slug=slug)
        include = request.query_params.get("include_models", "").lower() in ("1", "true", "yes")
        return Response(agreement_payload(project=project, include_models=include))
