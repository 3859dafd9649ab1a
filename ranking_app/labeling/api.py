"""/api/rankings/: a labeler's own rankings (reviewers and admins read everyone's).

Writes always concern the caller's own ranking and go through the labeling services the rank
pages use (``labeling/services.py``), so the API keeps the same rules: a prompt the queue
refuses (at its target, and no lease of the caller's) gets 403 and nothing is stored; a stale
``version`` gets 409 with the stored version in the body and nothing is overwritten, and so does
turning a submitted ranking back into a draft or a skip; a ranking that breaks the project's
rules gets 400 naming the field.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api.common import ID, StrictIntegerField, StrictPrimaryKeyRelatedField, choice_param, int_param, paginated
from ..models import Prompt, Ranking
from ..projects.selectors import ranking_list
from ..ranking import Tiers, ranks_to_tiers, tiers_to_ranks
from .selectors import prompt_responses
from .services import LabelingResult, Outcome, ranking_draft_save, ranking_skip, ranking_submit


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


RefusalSerializer = inline_serializer("LabelingRefused", fields={"detail": serializers.CharField()})


def _visible(user):
    return ranking_list(user=user).select_related("prompt__project").annotate(n_responses=Count("prompt__responses"))


def _tiers(prompt: Prompt, data: dict) -> Tiers:
    """The posted ranking as tiers: ``rankings`` (one rank per response) or ``tiers``."""
    n = len(prompt_responses(prompt=prompt))
    if "rankings" not in data:
        return data.get("tiers", [])
    if len(data["rankings"]) != n:
        raise serializers.ValidationError({"rankings": [f"has {len(data['rankings'])} entries but there are {n} responses"]})
    return ranks_to_tiers(data["rankings"])


def _save(request, prompt: Prompt, data: dict) -> LabelingResult:
    """The labeling service for the posted ``status``: the same rules as the labeling pages."""
    common = dict(
        prompt=prompt, annotator=request.user, expected_version=data["version"],
        time_spent_ms=data["time_spent_ms"], source="api",
    )
    if data["status"] == Ranking.Status.SKIPPED:
        _tiers(prompt, data)  # a malformed ranking is still refused
        return ranking_skip(reason=data["skip_reason"], **common)
    if data["status"] == Ranking.Status.DRAFT:
        return ranking_draft_save(tiers=_tiers(prompt, data), **common)
    return ranking_submit(tiers=_tiers(prompt, data), keep_invalid_as_draft=False, **common)


def _output(ranking: Ranking, created: bool = False) -> Response:
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(RankingOutputSerializer(ranking).data, status=code)


def _answer(result: LabelingResult, prompt: Prompt, data: dict, *, created: bool = False) -> Response:
    """A labeling outcome as an HTTP answer: 200/201, 400 (rules), 403 (the queue refuses), 409."""
    if result.saved:
        return _output(result.ranking, created=created and result.version == 1)
    if result.outcome is Outcome.PROMPT_FULL:
        return Response({"detail": result.message}, status=status.HTTP_403_FORBIDDEN)
    if result.outcome in (Outcome.CONFLICT, Outcome.ALREADY_SUBMITTED):
        current = result.ranking
        if current is not None:
            current.prompt = prompt
        body = {
            "detail": result.message,
            "current_version": result.version,
            "current": RankingOutputSerializer(current).data if current else None,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)
    field = "skip_reason" if data["status"] == Ranking.Status.SKIPPED else "tiers" if "tiers" in data else "rankings"
    return Response({field: list(result.errors)}, status=status.HTTP_400_BAD_REQUEST)


class RankingListApi(GenericAPIView):
    serializer_class = RankingOutputSerializer

    @extend_schema(
        operation_id="rankings_list",
        parameters=[
            OpenApiParameter("project", str, description="project slug"),
            OpenApiParameter("prompt", ID, description="prompt id"),
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
        responses={
            200: RankingOutputSerializer, 201: RankingOutputSerializer, 403: RefusalSerializer, 409: ConflictSerializer
        },
    )
    def post(self, request):
        data = RankingCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = _save(request, values["prompt"], values)
        return _answer(result, values["prompt"], values, created=values["version"] == 0)


class RankingDetailApi(APIView):
    @extend_schema(operation_id="rankings_retrieve", responses=RankingOutputSerializer)
    def get(self, request, pk: int):
        return _output(get_object_or_404(_visible(request.user), pk=pk))

    @extend_schema(
        operation_id="rankings_update",
        description="Update your own ranking; `version` is the version you edited (409 when stale).",
        request=RankingWriteInputSerializer,
        responses={200: RankingOutputSerializer, 403: RefusalSerializer, 409: ConflictSerializer},
    )
    def put(self, request, pk: int):
        ranking = get_object_or_404(_visible(request.user), pk=pk)
        if ranking.annotator_id != request.user.id:
            raise PermissionDenied("You can only change your own rankings.")
        data = RankingWriteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _answer(_save(request, ranking.prompt, data.validated_data), ranking.prompt, data.validated_data)
