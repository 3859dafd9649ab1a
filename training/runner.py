"""Run one claimed training job inside a worker: base evaluation, training, tuned evaluation.

While the job runs, a ``JobReporter`` thread writes the heartbeat, the throttled progress and the
metric rows every ``TRAINING_HEARTBEAT_SECONDS`` and reads the cancel flag, which the engine
polls through ``should_stop`` every step. It is the only writer during training; other writes
from this process take ``JobReporter.db_lock`` so the two threads never contend for SQLite.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from ranking_app.exchange.exports import export_path

from .engine.readiness import readiness_lines
from .engine.verdict import verdict_sentence
from .errors import readable_error
from .launched import LaunchedTraining
from .models import EvaluationResult, JobMetric, TrainingJob
from .services.adapters import adapter_dir_value
from .services.evaluations import evaluation_store, finite, load_engine
from .work.transitions import (
    RunCancelled,
    current_worker_id,
    retry_locked,
    run_claim,
    run_finish,
    run_heartbeat,
    runs_reap,
)

logger = logging.getLogger("training.job")
Status = TrainingJob.Status

PHASES = {  # engine progress phase -> what the job page says
    "load": "loading model and data",
    "reference": "computing reference log-probs",
    "train": "training",
    "save": "saving adapter",
    "done": "training finished",
}
METRIC_FIELDS = ("epoch", "loss", "reward_margin", "pair_accuracy", "learning_rate", "grad_norm",
                 "reward_best", "reward_worst", "logp_best_policy", "logp_best_reference", "kl", "kl_se",
                 "eval_loss", "eval_pair_accuracy")


class OwnershipLost(Exception):
    """Another actor changed the job (marked interrupted, or resumed elsewhere); stop writing to it."""


def execute_job(job_id: int) -> str:
    """Entry point of the dramatiq actor: claim ``job_id`` and run it; returns what happened."""
    retry_locked(runs_reap)
    worker_id = current_worker_id()
    job = retry_locked(lambda: job_claim(job_id=job_id, worker_id=worker_id))
    if job is None:
        status = retry_locked(lambda: TrainingJob.objects.filter(pk=job_id).values_list("status", flat=True).first())
        logger.info("job %s not claimed: it is %s (duplicate or stale delivery ignored)", job_id, status or "deleted")
        return "skipped"
    return JobRun(job).run()


def job_claim(*, job_id: int, worker_id: str) -> TrainingJob | None:
    """Take a queued job for ``worker_id`` (atomic); ``None`` when it is not queued any more.

    A second delivery of the same message finds the job running (or finished) and gets ``None``.
    """
    claimed = run_claim(TrainingJob, job_id, worker_id, phase="starting", attempts=F("attempts") + 1,
                        train_started_at=None)  # fmt: skip
    return TrainingJob.objects.get(pk=job_id) if claimed else None


def job_finish(*, job_id: int, worker_id: str, status: str, **fields) -> bool:
    """Record the end of a run, if ``worker_id`` still owns it; returns whether it did."""
    return run_finish(TrainingJob, job_id, worker_id, status, **fields)


class JobReporter:
    """Heartbeat + throttled progress writer thread; also the cooperative cancel flag."""

    def __init__(self, job: TrainingJob, interval: float | None = None):
        self.job_id, self.worker_id = job.pk, job.worker_id
        self.interval = interval or settings.TRAINING_HEARTBEAT_SECONDS
        self.db_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending: dict = {}
        self._metrics: dict[int, dict] = {}
        self._train_started = job.train_started_at is not None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"job-{job.pk}-reporter", daemon=True)
        self.cancel_requested = False
        self.lost = False

    # called from the training thread ----------------------------------------------------
    def event(self, event: dict) -> None:
        with self._lock:
            phase = event.get("phase")
            if phase in PHASES and "step" not in event:
                self._pending["phase"] = PHASES[phase]
                if event.get("total_steps"):  # the trainer's exact count, before the first logged step
                    self._pending["total_steps"] = int(event["total_steps"])
                if event.get("resumed_from"):
                    self._pending["resumed_from"] = str(event["resumed_from"])
                    logger.info("resuming from checkpoint %s", event["resumed_from"])
                else:
                    logger.info("phase: %s", PHASES[phase])
            if event.get("step") is not None:
                self._record_step(event)

    def _record_step(self, event: dict) -> None:
        step = int(event["step"])
        metrics = {name: _number(event.get(name)) for name in METRIC_FIELDS}
        self._pending.update(step=step, total_steps=int(event.get("total_steps") or 0),
                             epoch=metrics["epoch"] or 0.0, phase=PHASES["train"],
                             latest_metrics={k: v for k, v in metrics.items() if v is not None})
        if not self._train_started:
            self._train_started = True
            self._pending.update(train_started_at=timezone.now(), train_started_step=step)
        self._metrics[step] = metrics
        logger.info("step %s/%s %s", step, event.get("total_steps"),
                    " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if v is not None))

    def progress(self, *, step: int, total: int) -> None:
        """Progress of a job that is not training (a generation job's prompts done of ``total``)."""
        with self._lock:
            self._pending.update(step=step, total_steps=total)

    def set_phase(self, phase: str) -> None:
        with self._lock:
            self._pending["phase"] = phase
        logger.info("phase: %s", phase)

    def should_stop(self) -> bool:
        return self.cancel_requested or self.lost

    # the writer -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then write what is still pending from the caller's thread."""
        self._stop.set()
        self._thread.join()
        retry_locked(self.flush)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.flush()
                except Exception as exc:  # noqa: BLE001 - database busy, locked or gone: reconnect next tick
                    logger.warning("progress write failed, retrying: %s", exc)
                    connection.close()
        finally:
            connection.close()

    def flush(self) -> None:
        with self._lock:
            pending, metrics = dict(self._pending), dict(self._metrics)
        with self.db_lock:
            if not run_heartbeat(TrainingJob, self.job_id, self.worker_id, **pending):
                self.lost = True
                now = TrainingJob.objects.filter(pk=self.job_id).values("status", "worker_id", "heartbeat_at").first()
                logger.warning("job %s is no longer owned by this worker (now %s)", self.job_id, now)
                return
            if metrics:
                JobMetric.objects.bulk_create(
                    [JobMetric(job_id=self.job_id, step=step, **values) for step, values in sorted(metrics.items())],
                    update_conflicts=True, unique_fields=["job", "step"], update_fields=list(METRIC_FIELDS),
                )  # fmt: skip
            self.cancel_requested = bool(
                TrainingJob.objects.filter(pk=self.job_id).values_list("cancel_requested", flat=True).first()
            )
        with self._lock:  # only drop what was written; newer events stay pending
            for key, value in pending.items():
                if self._pending.get(key) is value:
                    del self._pending[key]
            for step in metrics:
                if self._metrics.get(step) is metrics[step]:
                    del self._metrics[step]


class JobRun:
    """One attempt at a claimed job, from its files to its final status."""

    def __init__(self, job: TrainingJob):
        self.job = job
        self.engine = None  # imported after the heartbeat runs: importing torch can take a while
        self.work_dir = job.work_path
        self.output_dir = self.work_dir / "output"
        self.reporter = JobReporter(job)

    def run(self) -> str:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        handler = _attach_log(self.work_dir / "job.log")
        logger.info("job %s attempt %s claimed by %s", self.job.pk, self.job.attempts, self.job.worker_id)
        self.reporter.start()
        try:
            status, fields = self._run_stages()
        except OwnershipLost:
            status, fields = "", {}
        except RunCancelled as exc:
            logger.info("cancelled: %s", exc)
            status, fields = Status.CANCELLED, {}
        except BaseException as exc:  # noqa: B036 - time limits arrive as BaseException; every failure is recorded
            if self.engine is not None and isinstance(exc, self.engine.TrainingCancelled):
                logger.info("cancelled: %s", exc)
                status, fields = Status.CANCELLED, {}
            else:
                logger.error("failed: %s", exc, exc_info=True)
                status, fields = Status.FAILED, {"error": readable_error(exc), "error_detail": traceback.format_exc()}
        finally:
            self.reporter.stop()
            if self.engine is not None:
                _release_memory()
        try:
            return self._finish(status, fields)
        finally:
            _detach_log(handler)

    def _finish(self, status: str, fields: dict) -> str:
        if self.reporter.lost or not status:
            logger.warning("job %s was taken over (marked interrupted or resumed); not recording an outcome", self.job.pk)
            return "lost"
        with self.reporter.db_lock:
            recorded = retry_locked(lambda: job_finish(job_id=self.job.pk, worker_id=self.job.worker_id,
                                                        status=status, **fields))
        logger.info("job %s %s", self.job.pk, status if recorded else "ended, but another actor took it over")
        return status if recorded else "lost"

    def _run_stages(self) -> tuple[str, dict]:
        """The stages of this job's kind: launched elsewhere, or here with the engine loaded once."""
        if self.job.kind == TrainingJob.Kind.TRAIN and settings.GRPO_LAUNCHER != "inprocess":
            return LaunchedTraining(self).stages()  # the engine runs elsewhere; this process stays torch-free
        self.reporter.set_phase("loading the training engine")
        self.engine = load_engine()
        _limit_cpu_threads()
        if self.job.kind == TrainingJob.Kind.GENERATE:
            from .generation.run import generation_stages

            return generation_stages(self)
        if self.job.kind == TrainingJob.Kind.JUDGE:
            from .judging.run import judging_stages

            return judging_stages(self)
        return self._training_stages()

    def _training_stages(self) -> tuple[str, dict]:
        """Base evaluation, training, tuned evaluation: one engine session (the export parsed once, the
        base model loaded once for every stage)."""
        job = self.job
        config = self.engine.RankedGRPOConfig(
            output_dir=str(self.output_dir), data_path=str(export_path(job.export)), **job.config
        )
        session = self.engine.RunSession(config)
        for line in readiness_lines(job.data_summary["readiness"]) if job.data_summary.get("readiness") else []:
            logger.info("%s", line)  # is this data ready? (the launch snapshot, as `train` prints it)
        evaluate = job.data_summary.get("test_prompts", 0) > 0
        if not evaluate:
            logger.warning("the export has no test-split prompts with a valid pair: evaluation skipped")
        own_base = EvaluationResult.objects.filter(job=job, model="base", export=job.export, split="test")
        if evaluate and not own_base.exists():
            self.reporter.set_phase("evaluating base model")
            self.store_evaluation("base", session.evaluate_base())
        self._check_cancel()
        summary = self._train(session)
        self._check_cancel()
        if evaluate:
            self.reporter.set_phase("evaluating tuned model")
            self.store_evaluation("tuned", session.evaluate_tuned(summary["adapter_dir"]))  # and its model card
        return Status.SUCCEEDED, {
            "result": finite({k: v for k, v in summary.items() if k != "history"}),
            "adapter_dir": adapter_dir_value(summary["adapter_dir"]),
        }

    def _train(self, session) -> dict:
        """Train from the last checkpoint if there is one; refuse a run that took no optimizer step."""
        checkpoint = _last_checkpoint(self.output_dir)
        if checkpoint:
            self._backfill_metrics(Path(checkpoint))
        summary = session.train(progress=self.reporter.event, should_stop=self.reporter.should_stop,
                                resume=checkpoint is not None)
        if not summary.get("global_step"):
            raise ValueError("training ran 0 optimizer steps, so nothing was learned: add train prompts, or lower "
                             "per_device_train_batch_size or gradient_accumulation_steps")
        return summary

    def store_evaluation(self, model: str, result: dict) -> None:
        logger.info("%s model (%s): %s", model, result.get("scoring"),
                    {k: result.get(k) for k in ("accuracy", "ndcg", "pairwise_accuracy")})
        if result.get("verdict"):
            logger.info("verdict: %s", verdict_sentence(result["verdict"]))
        with self.reporter.db_lock:
            retry_locked(lambda: evaluation_store(job=self.job, model=model, result=result))

    def _backfill_metrics(self, checkpoint: Path) -> None:
        """Metric rows up to the checkpoint from its trainer_state.json: steps logged after the last
        progress write of a killed attempt are not lost."""
        state = checkpoint / "trainer_state.json"
        try:
            history = json.loads(state.read_text())["log_history"]
        except (OSError, ValueError, KeyError):
            return
        self.store_metric_rows(history, source=checkpoint.name)

    def store_metric_rows(self, history: list[dict], *, source: str) -> None:
        """Upsert the metric rows of trainer log entries (``log_history`` of a checkpoint's trainer_state)."""
        rows = [JobMetric(job_id=self.job.pk, step=int(entry["step"]),
                          **{name: _number(entry.get(name)) for name in METRIC_FIELDS})
                for entry in history if "loss" in entry and "step" in entry]
        if rows:
            with self.reporter.db_lock:
                retry_locked(lambda: JobMetric.objects.bulk_create(
                    rows, update_conflicts=True, unique_fields=["job", "step"], update_fields=list(METRIC_FIELDS)))
            logger.info("metrics of steps %s-%s restored from %s", rows[0].step, rows[-1].step, source)

    def _check_cancel(self) -> None:
        if self.reporter.lost:
            raise OwnershipLost()
        if self.reporter.cancel_requested:
            raise self.engine.TrainingCancelled(_last_checkpoint(self.output_dir), self.job.step)


def _last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete checkpoint, after moving aside any that a killed run left half-written."""
    if not output_dir.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    _set_aside_incomplete_checkpoints(output_dir)
    return get_last_checkpoint(str(output_dir))


def _set_aside_incomplete_checkpoints(output_dir: Path) -> None:
    # the Trainer writes trainer_state.json last: a checkpoint without it was cut short (SIGKILL
    # while saving) and cannot be resumed from; renamed, not deleted, so nothing is lost
    for path in sorted(output_dir.glob("checkpoint-*")):
        if path.is_dir() and not (path / "trainer_state.json").is_file():
            target = output_dir / f"incomplete-{path.name}-{int(time.time())}"
            path.rename(target)
            logger.warning("checkpoint %s is incomplete (no trainer_state.json); moved to %s", path.name, target.name)


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


class _ThreadFilter(logging.Filter):
    def __init__(self):
        super().__init__()
        self.prefix = "job-"
        self.main = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.main or record.threadName.startswith(self.prefix)


class _UTCFormatter(logging.Formatter):
    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _attach_log(path: Path) -> logging.Handler:
    """Send this thread's log records (ours, the engine's, transformers') to the job's log file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_UTCFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ThreadFilter())
    handler.setLevel(logging.INFO)
    for name in ("", "transformers"):
        logging.getLogger(name).addHandler(handler)
    if logging.getLogger().level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def _detach_log(handler: logging.Handler) -> None:
    for name in ("", "transformers"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def _limit_cpu_threads() -> None:
    """torch's CPU threads in this worker: ``TRAINING_CPU_THREADS`` (0 keeps torch's one per core).

    On a busy 2-core machine two threads per op wait on each other: the demo smoke job took
    150-208 s with 2 threads and 8-23 s with 1 (docs/benchmarks/training_jobs.md)."""
    if settings.TRAINING_CPU_THREADS:
        import torch  # the worker side only (load_engine has just loaded the engine); the web never gets here

        torch.set_num_threads(settings.TRAINING_CPU_THREADS)


def _release_memory() -> None:
    from training.engine.memory import release_memory

    release_memory()
