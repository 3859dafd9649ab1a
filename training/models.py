"""Training jobs, their metric time series and their evaluations (with per-prompt model rankings).

A job row is the single source of truth for a run: the web pages, the API and the worker all read
and write it. Jobs, evaluation requests and merged-model builds are ``BackgroundRun`` rows
(``training/work/``): the worker owns a running row through ``worker_id`` + a fresh ``heartbeat_at``;
a running row whose heartbeat went stale is shown as ``interrupted`` on every read
(``BackgroundRun.stale``) and stored so by the reaper (``training.work.transitions.runs_mark_interrupted``:
the worker before each run, ``manage.py training_reap``, and a person's cancel or resume).
"""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from ranking_app.models import ExportSnapshot, Project, Prompt, Round

from .work.models import BackgroundRun, RunStatus


class TrainingJob(BackgroundRun):
    class Kind(models.TextChoices):
        TRAIN = "train", "training"
        GENERATE = "generate", "generation"
        JUDGE = "judge", "ranking with a model"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TRAIN, db_index=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="training_jobs")
    export = models.ForeignKey(
        ExportSnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="training_jobs",
        help_text="The frozen export the job trains and evaluates on (none for a generation job).",
    )
    round = models.ForeignKey(
        Round, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs",
        help_text="A generation job opens this round; a training job trains on the data up to it.",
    )
    name = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=50, blank=True)
    base_model = models.CharField(max_length=500)
    config = models.JSONField(help_text="User-facing RankedGRPOConfig values (validated by the engine at launch).")
    phase = models.CharField(max_length=50, blank=True, help_text="What a running job is doing right now.")
    # progress of the training phase
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    epoch = models.FloatField(default=0)
    latest_metrics = models.JSONField(default=dict, blank=True)
    train_started_at = models.DateTimeField(null=True, blank=True, help_text="First progress event of this attempt.")
    train_started_step = models.PositiveIntegerField(default=0)
    resumed_from = models.CharField(max_length=500, blank=True, help_text="Checkpoint the last attempt resumed from.")
    # ownership and liveness: BackgroundRun's worker_id, heartbeat_at, cancel_requested
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed the job.")
    # where the run executes (training/launchers): the launcher, its settings and its handle on the run
    launcher = models.CharField(max_length=20, blank=True, help_text="local (a child process of the worker) or ray.")
    launch = models.JSONField(default=dict, blank=True,
                              help_text="Launch settings: num_processes, num_gpus, accelerate_config.")
    launch_ref = models.CharField(max_length=200, blank=True,
                                  help_text="The Ray job id, or host:pid of the local engine process.")
    # files, relative to settings.TRAINING_DIR
    work_dir = models.CharField(max_length=500, blank=True)
    adapter_dir = models.CharField(max_length=500, blank=True)
    data_summary = models.JSONField(default=dict, blank=True, help_text="Prompts per split the engine will use.")
    result = models.JSONField(default=dict, blank=True, help_text="run_training's summary, without the history.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    STOPPED_FIELDS = {"phase": ""}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    def allowed_actions(self, now=None) -> tuple[str, ...]:
        """``BackgroundRun``'s actions, plus "merge" for a succeeded job whose merged model can be asked for."""
        actions = super().allowed_actions(now)
        if self.status != RunStatus.SUCCEEDED:
            return actions
        merge = self.adapter_merge
        return (*actions, "merge") if merge is None or "requeue" in merge.allowed_actions(now) else actions

    @property
    def adapter_merge(self) -> "AdapterMerge | None":
        """The build of this job's merged model, if one was ever asked for."""
        try:
            return self.merge
        except AdapterMerge.DoesNotExist:
            return None

    @property
    def work_path(self) -> Path:
        """The job's folder (log, checkpoints, adapter) under ``settings.TRAINING_DIR``."""
        return Path(settings.TRAINING_DIR) / (self.work_dir or f"job-{self.pk}")

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total_steps:
            return 0
        return min(100, int(100 * self.step / self.total_steps))


class JobMetric(models.Model):
    """One logging step of a job: what the charts plot."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    step = models.PositiveIntegerField()
    epoch = models.FloatField(null=True)
    loss = models.FloatField(null=True)
    reward_margin = models.FloatField(null=True)
    pair_accuracy = models.FloatField(null=True)
    learning_rate = models.FloatField(null=True)
    grad_norm = models.FloatField(null=True)
    # drift from the reference (training/engine/drift.py)
    reward_best = models.FloatField(null=True)
    reward_worst = models.FloatField(null=True)
    logp_best_policy = models.FloatField(null=True)
    logp_best_reference = models.FloatField(null=True)
    kl = models.FloatField(null=True)
    kl_se = models.FloatField(null=True)  # standard error of the KL estimate
    # validation split (training/engine/validation.py), at validation steps only
    eval_loss = models.FloatField(null=True)
    eval_pair_accuracy = models.FloatField(null=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job_id", "step"]
        constraints = [models.UniqueConstraint(fields=["job", "step"], name="unique_job_metric_step")]

    def __str__(self) -> str:
        return f"job {self.job_id} step {self.step}"


class EvaluationResult(models.Model):
    """Metrics of one model (the base model or base + the job's adapter) on one split of one export."""

    class Model(models.TextChoices):
        BASE = "base", "base model"
        TUNED = "tuned", "base + adapter"

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="evaluations")
    model = models.CharField(max_length=10, choices=Model.choices)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    export = models.ForeignKey(ExportSnapshot, on_delete=models.PROTECT, related_name="+")
    split = models.CharField(max_length=20, default="test")
    n_prompts = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(
        default=dict, help_text="accuracy, ndcg, mrr, kendall_tau, pairwise_accuracy, n_pairs, robustness{...}."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job_id", "model", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "model", "export", "split"], name="unique_job_evaluation")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.model} on {self.split}"


class PromptEvaluation(models.Model):
    """A model's scores and ranking of one prompt's responses (canonical response order)."""

    evaluation = models.ForeignKey(EvaluationResult, on_delete=models.CASCADE, related_name="prompts")
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    external_id = models.CharField(max_length=200)
    scores = models.JSONField(help_text="Mean token log-prob of each response, in canonical order.")
    ranking = models.JSONField(help_text="Model ranking as dense ranks per response (0 = best).")
    human_ranking = models.JSONField(default=list, help_text="Dense human ranks the evaluation compared against.")
    implicit_rewards = models.JSONField(null=True, blank=True, help_text="beta * (log pi - log pi_ref), tuned only.")
    sum_logps = models.JSONField(null=True, blank=True, help_text="Summed token log-prob of each response.")

    class Meta:
        ordering = ["evaluation_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "external_id"], name="unique_prompt_evaluation")
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} {self.external_id}"


class EvaluationRequest(BackgroundRun):
    """"Evaluate job J (tuned + base) on project P, split S": one row per (job, project, split).

    A ``BackgroundRun``: a request is ``queued``, the worker that claims it makes it ``running``
    (``worker_id``, heartbeats), and only that worker records the outcome (``succeeded`` with the two
    evaluations, or ``failed`` with the error). A finished request, or an interrupted one (stale
    heartbeat), can be requested again in place.
    """

    ACTIONS = {**{status: ("cancel",) for status in BackgroundRun.ACTIVE},
               **{status: ("requeue",) for status in BackgroundRun.FINISHED}}
    STALE_ERROR = "the worker stopped sending heartbeats (killed, crashed or lost its machine); evaluate again"

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="evaluation_requests")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=20)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    export = models.ForeignKey(ExportSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tuned = models.ForeignKey(EvaluationResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    base = models.ForeignKey(EvaluationResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    n_prompts = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "project", "split"], name="unique_evaluation_request")
        ]

    def __str__(self) -> str:
        return f"evaluation of job {self.job_id} on project {self.project_id} ({self.split}): {self.status}"


class AdapterMerge(BackgroundRun):
    """The build of a job's merged model (the adapter folded into its base), asked for on the job page and
    run by a worker (``training/services/merges.py``); succeeded with ``merged_dir`` or failed with the error."""

    ACTIONS = {**{status: ("cancel",) for status in BackgroundRun.ACTIVE},
               **{status: ("requeue",) for status in BackgroundRun.RESUMABLE}}
    STALE_ERROR = "the worker stopped sending heartbeats (killed, crashed or lost its machine); build it again"

    job = models.OneToOneField(TrainingJob, primary_key=True, on_delete=models.CASCADE, related_name="merge")
    merged_dir = models.CharField(max_length=500, blank=True, help_text="Merged model folder, relative to TRAINING_DIR.")
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"merged model of job {self.job_id}: {self.status}"
