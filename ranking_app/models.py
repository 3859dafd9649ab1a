"""Projects, prompts, responses and the rankings people give them.

A ranking is stored as ordered tiers of canonical response positions, best tier first:
``[[2], [0, 3], [1]]`` means response 2 is best, 0 and 3 are tied, 1 is worst; a position
missing from every tier is unranked. ``ranking_app.ranking`` converts between tiers and the
exchange format's per-response ranks.
"""

from django.conf import settings
from django.db import models


class Project(models.Model):
    class QueueOrder(models.TextChoices):
        DEFAULT = "default", "fewest rankings first"
        DISAGREEMENT = "disagreement", "most disagreement first"
        MODEL_UNCERTAINTY = "model_uncertainty", "model least sure first"
        RANDOM = "random", "random"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    guidelines = models.TextField(blank=True, help_text="Labeling guidelines, in Markdown.")
    target_annotators = models.PositiveSmallIntegerField(
        default=3, help_text="Submitted rankings wanted per prompt."
    )
    agreement_threshold = models.FloatField(
        default=0.6, help_text="Kendall's W at or above which a prompt counts as validated."
    )
    allow_ties = models.BooleanField(default=True)
    allow_partial = models.BooleanField(default=True)
    queue_order = models.CharField(
        max_length=20, choices=QueueOrder.choices, default=QueueOrder.DEFAULT,
        help_text="Which open prompts labelers get first (ranking_app/services/queue_orders.py).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Round(models.Model):
    """One turn of the preference loop: candidates generated (or imported), ranked, trained on."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="unique_round_number")]

    def __str__(self) -> str:
        return f"{self.project.slug} round {self.number}"


class Prompt(models.Model):
    class Split(models.TextChoices):
        TRAIN = "train", "train"
        TEST = "test", "test"
        UNASSIGNED = "unassigned", "unassigned"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200)
    text = models.TextField()
    split = models.CharField(max_length=20, choices=Split.choices, default=Split.UNASSIGNED)
    metadata = models.JSONField(default=dict, blank=True)
    round = models.ForeignKey(
        Round, null=True, blank=True, on_delete=models.SET_NULL, related_name="prompts",
        help_text="The loop round whose candidates these are (none: data from before the loop).",
    )
    # Review state: a gold ranking set by an admin, an adjudicated final ranking set by a
    # reviewer (overrides the consensus), and extra annotators asked for by a reviewer.
    gold_tiers = models.JSONField(null=True, blank=True)
    adjudicated_tiers = models.JSONField(null=True, blank=True)
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    extra_annotators = models.PositiveSmallIntegerField(default=0)
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="unique_prompt_external_id")
        ]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.external_id}"


class Response(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveSmallIntegerField(help_text="Canonical index in the prompt's responses.")
    text = models.TextField()
    source = models.CharField(max_length=200, blank=True, help_text="Model or origin of the response.")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["prompt_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "position"], name="unique_response_position")
        ]

    def __str__(self) -> str:
        return f"{self.prompt} #{self.position}"


class Ranking(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SUBMITTED = "submitted", "submitted"
        SKIPPED = "skipped", "skipped"

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="rankings")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rankings"
    )
    tiers = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    skip_reason = models.TextField(blank=True)
    time_spent_ms = models.PositiveIntegerField(default=0)
    keystrokes = models.PositiveIntegerField(
        default=0, help_text="Keys the rank page acted on for this ranking (all its saves added up; 0 outside the page).",
    )
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every save (optimistic concurrency).")
    source = models.CharField(max_length=50, default="ui", help_text="ui, api or import:<name>.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["prompt_id", "annotator_id"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "annotator"], name="unique_ranking_per_annotator")
        ]
        indexes = [models.Index(fields=["prompt", "status"]), models.Index(fields=["annotator", "status"])]

    def __str__(self) -> str:
        return f"{self.prompt} by {self.annotator_id} ({self.status})"


class RankingRevision(models.Model):
    """One row per saved state of a ranking, so no ranking is ever lost."""

    ranking = models.ForeignKey(Ranking, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    tiers = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Ranking.Status.choices)
    skip_reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=50, default="ui")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ranking_id", "version"]

    def __str__(self) -> str:
        return f"{self.ranking} v{self.version}"


class Assignment(models.Model):
    """A lease: a prompt handed to one labeler until ``expires_at``."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt", "annotator"], name="unique_assignment")
        ]
        indexes = [models.Index(fields=["prompt", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.prompt} -> {self.annotator_id} until {self.expires_at:%H:%M}"


class ExportSnapshot(models.Model):
    """An immutable export file (or directory, for Hugging Face datasets) with its sha256."""

    class Format(models.TextChoices):
        JSON = "json", "exchange JSON"
        JSONL = "jsonl", "exchange JSONL"
        PAIRS = "pairs", "pairs JSONL"
        HF = "hf", "Hugging Face DatasetDict"
        LABEL_STUDIO = "label-studio", "Label Studio tasks"
        TRL = "trl", "TRL preference pairs"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=20, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=500, help_text="File or directory, relative to EXPORT_DIR.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.format} {self.sha256[:12]}"


# --- agreement & review area -------------------------------------------------------------
class ProjectAgreement(models.Model):
    """Cached agreement figures of a project, shared by the web process, workers and commands.

    ``fingerprint`` summarises the state the figures were computed from (counts and latest
    ``updated_at`` of the project's rankings and prompts, plus the project's settings); when the
    current fingerprint differs, the figures are recomputed on the next read. ``summary`` holds
    the small figures a dashboard needs, ``items`` the per-prompt rows (W, status, consensus),
    ``queue`` the ``needs_review`` rows lowest W first (the review queue, without loading items).
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="agreement_cache")
    fingerprint = models.CharField(max_length=300)
    summary = models.JSONField(default=dict)
    items = models.JSONField(default=list)
    queue = models.JSONField(default=list)
    compute_ms = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"agreement of {self.project_id} at {self.computed_at:%Y-%m-%d %H:%M}"
