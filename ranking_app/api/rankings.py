"""/api/rankings/: a labeler's own rankings (reviewers and admins read everyone's).

Writes always concern the caller's own ranking and go through ``ranking_save`` with the
client's ``version`` (optimistic concurrency): a stale version gets 409 with the stored
version in the body and nothing is overwritten; a ranking that breaks the project's rules
gets 400 naming the field.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Prompt, Ranking
from ..ranking import RankingError, ranks_to_tiers, tiers_to_ranks
from ..selectors import ranking_list
from ..services.rankings import RankingConflict, ranking_save
from .common import StrictIntegerField, StrictPrimaryKeyRelatedField, choice_param, int_param, paginated


class RankingOutputSerializer(serializers.ModelSerializer):
    prompt_external_id = serializers.CharField(source="prompt.external_id", read_only=True)
    project = serializers.CharField(source="prompt.project.slug", read_only=True)
    annotator = serializers.CharField(source="annotator.username", read_only=True)
    rankings = serializers.SerializerMethodField(help_text="Rank per response (exchange format); null = unranked.")

    class Meta:
        model = Ranking
        fields = [
            "id", "prompt", "prompt_external_id", "project", "annotator", "rankings", "tiers", "status",
            "skip_reason", "time_spent_ms", "version", "source", "created_at", "updated_at", "submitted_at",
        ]

    def get_rankings(self, ranking) -> list[int | None]:
        n = getattr(ranking, "n_responses", None) or getattr(ranking.prompt, "_response_count", None)
        if n is None:
            n = ranking.prompt.responses.count()
        return tiers_to_ranks(ranking.tiers, n)


class RankingWriteInputSerializer(serializers.Serializer):
    rankings = serializers.ListField(
        child=StrictIntegerField(allow_null=True),
        required=False,
        help_text="Rank per response, aligned with the prompt's responses (lower is better, equal = tie, null = unranked).",
    )
    tiers = serializers.ListField(
        child=serializers.ListField(child=StrictIntegerField(min_value=0)),
        required=False,
        help_text="Alternative to `rankings`: groups of response positions, best first.",
    )
    status = serializers.ChoiceField(choices=Ranking.Status.choices, default=Ranking.Status.SUBMITTED)
    skip_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    time_spent_ms = StrictIntegerField(required=False, min_value=0, default=0)
    version = StrictIntegerField(
        min_value=0,
        help_text="The version you edited (0 when creating). A stale version gets HTTP 409 and nothing is saved.",
    )

    def validate(self, data):
        given = [name for name in ("rankings", "tiers") if name in data]
        if len(given) > 1:
            raise serializers.ValidationError({"tiers": ["give either rankings or tiers, not both"]})
        if not given and data["status"] != Ranking.Status.SKIPPED:
            raise serializers.ValidationError({"rankings": ["this field is required (or give tiers)"]})
        return data


class RankingCreateInputSerializer(RankingWriteInputSerializer):
    prompt = StrictPrimaryKeyRelatedField(queryset=Prompt.objects.select_related("project"))
    version = StrictIntegerField(
        min_value=0, default=0, help_text="0 (the default) when you expect to create the ranking."
    )


ConflictSerializer = inline_serializer(
    "RankingConflict",
    fields={
        "detail": serializers.CharField(),
        "current_version": StrictIntegerField(),
        "current": RankingOutputSerializer(allow_null=True),
    },
)


def _visible(user):
    return ranking_list(user=user).select_related("prompt__project").annotate(n_responses=Count("prompt__responses"))


def _save(request, prompt: Prompt, data: dict):
    """Validate the ranking against the prompt and save it; a Response for 400/409 or the ranking."""
    n = prompt.responses.count()
    prompt._response_count = n
    field = "tiers" if "tiers" in data else "rankings"
    if field == "rankings" and "rankings" in data:
        ranks = data["rankings"]
        if len(ranks) != n:
            return Response({"rankings": [f"has {len(ranks)} entries but there are {n} responses"]}, status=400)
        tiers = ranks_to_tiers(ranks)
    else:
        tiers = data.get("tiers", [])
    try:
        return ranking_save(
            prompt=prompt,
            annotator=request.user,
            tiers=tiers,
            status=data["status"],
            expected_version=data["version"],
            skip_reason=data["skip_reason"],
            time_spent_ms=data["time_spent_ms"],
            source="api",
        )
    except RankingError as error:
        return Response({field: error.errors}, status=status.HTTP_400_BAD_REQUEST)
    except RankingConflict as conflict:
        current = conflict.ranking if conflict.ranking.pk else None
        if current is not None:
            current.prompt = prompt
        body = {
            "detail": str(conflict),
            "current_version": conflict.ranking.version,
            "current": RankingOutputSerializer(current).data if current else None,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)


def _output(ranking: Ranking, created: bool = False) -> Response:
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(RankingOutputSerializer(ranking).data, status=code)


class RankingListApi(GenericAPIView):
    serializer_class = RankingOutputSerializer

    @extend_schema(
        operation_id="rankings_list",
        parameters=[
            OpenApiParameter("project", str, description="project slug"),
            OpenApiParameter("prompt", int, description="prompt id"),
            OpenApiParameter("annotator", str, description="username (reviewers and admins)"),
            OpenApiParameter("status", str, enum=[s for s, _ in Ranking.Status.choices]),
        ],
        responses=RankingOutputSerializer(many=True),
    )
    def get(self, request):
        rankings = _visible(request.user).order_by("id")
        filters = {
            "prompt__project__slug": request.query_params.get("project"),
            "prompt_id": int_param(request, "prompt"),
            "annotator__username": request.query_params.get("annotator"),
            "status": choice_param(request, "status", Ranking.Status.values),
        }
        rankings = rankings.filter(**{key: value for key, value in filters.items() if value is not None})
        return paginated(request, self, rankings, RankingOutputSerializer)

    @extend_schema(
        operation_id="rankings_save",
        description="Create or update **your own** ranking of a prompt. Send `version` 0 to create; "
        "to update, send the version you edited.",
        request=RankingCreateInputSerializer,
        responses={200: RankingOutputSerializer, 201: RankingOutputSerializer, 409: ConflictSerializer},
    )
    def post(self, request):
        data = RankingCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = _save(request, data.validated_data["prompt"], data.validated_data)
        if isinstance(result, Response):
            return result
        return _output(result, created=result.version == 1 and data.validated_data["version"] == 0)


class RankingDetailApi(APIView):
    @extend_schema(operation_id="rankings_retrieve", responses=RankingOutputSerializer)
    def get(self, request, pk: int):
        return _output(get_object_or_404(_visible(request.user), pk=pk))

    @extend_schema(
        operation_id="rankings_update",
        description="Update your own ranking; `version` is the version you edited (409 when stale).",
        request=RankingWriteInputSerializer,
        responses={200: RankingOutputSerializer, 409: ConflictSerializer},
    )
    def put(self, request, pk: int):
        ranking = get_object_or_404(_visible(request.user), pk=pk)
        if ranking.annotator_id != request.user.id:
            raise PermissionDenied("You can only change your own rankings.")
        data = RankingWriteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = _save(request, ranking.prompt, data.validated_data)
        return result if isinstance(result, Response) else _output(result)
