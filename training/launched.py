"""A training job run by a launcher (local child process or Ray Job) and followed from the worker.

``LaunchedTraining`` is what ``JobRun`` calls for a training job when GRPO_LAUNCHER is not
``inprocess``. It re-attaches to the run stored on the job (``launch_ref``) when the launcher still has
it running or finished (a Ray job, or a local supervisor, outlives a SIGKILLed worker; the sweeper
queues such a job again by itself: ``services.reattach``), else submits the engine command lines. Then it polls:
``@grpo`` event lines become progress, metrics and phases through the ``JobReporter`` (heartbeats go
on meanwhile), other lines go to the job log; a cancel on the job stops the run (the engine saves a
checkpoint first). Evaluations are read back from the storage URL and stored.

A re-attached run's output is read again from its start (its events are replayed: progress and metric
rows are upserts), but the lines an earlier worker already wrote to the job log are not written twice:
the follower records how many lines of the run it has read in ``engine.read.json`` next to the log.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings

from .engine import events, storage
from .job_storage import adapter_dir_value, training_url
from .launchers import RunState, launcher_get
from .launchers.commands import job_run_spec
from .models import EvaluationResult, TrainingJob
from .services.evaluations import finite
from .work.transitions import RunCancelled

logger = logging.getLogger("training.job")
engine_logger = logging.getLogger("training.engine.run")
Status = TrainingJob.Status
READ_FILE = "engine.read.json"  # {"ref": the run, "lines": how many of its output lines were read}


class LaunchedRunFailed(RuntimeError):
    """The engine command exited with an error (its own ``error:`` line when it printed one)."""


class LaunchedTraining:
    def __init__(self, run):
        self.run, self.job, self.reporter = run, run.job, run.reporter
        self.launcher = launcher_get()
        self.evaluate = self.job.data_summary.get("test_prompts", 0) > 0
        self.summary: dict | None = None
        self.error_line = ""
        self.lines_read = 0  # of the followed run's output
        self.logged_before = 0  # lines of it an earlier worker wrote to the job log already

    def stages(self) -> tuple[str, dict]:
        if not self.evaluate:
            logger.warning("the export has no test-split prompts with a valid pair: evaluation skipped")
        handle = self._attach() or self._submit()
        try:
            state = self._follow(handle)
        except BaseException:  # noqa: B036 - a time limit or a crash here must not leave the run going on alone
            _stop_quietly(handle)
            raise
        if self.reporter.lost:  # nothing is recorded: the job's new owner re-attaches to the run
            raise LaunchedRunFailed(f"the job was taken from this worker; {handle.ref} goes on")
        if state == RunState.STOPPED or self.reporter.cancel_requested and state != RunState.SUCCEEDED:
            raise RunCancelled(f"{self.launcher.name} run {handle.ref} stopped")
        if state == RunState.FAILED:
            raise LaunchedRunFailed(self.error_line or handle.failure())
        return self._results()

    def _attach(self):
        job = self.job
        if not job.launch_ref or job.launcher != self.launcher.name:
            return None
        handle = self.launcher.attach(job.launch_ref, self.run.work_dir)
        if handle is not None:
            logger.info("re-attached to %s run %s (started by an earlier attempt)", self.launcher.name, handle.ref)
            self.logged_before = self._read_count(handle.ref)
        return handle

    def _read_count(self, ref: str) -> int:
        """How many lines of run ``ref`` an earlier follower read (0 when unknown, or for another run)."""
        try:
            record = json.loads((self.run.work_dir / READ_FILE).read_text())
        except (OSError, ValueError):
            return 0
        return int(record.get("lines", 0)) if isinstance(record, dict) and record.get("ref") == ref else 0

    def _save_count(self, ref: str) -> None:
        try:
            (self.run.work_dir / READ_FILE).write_text(json.dumps({"ref": ref, "lines": self.lines_read}))
        except OSError as exc:  # a full disk must not stop the run being followed
            logger.warning("could not record the lines read of run %s: %s", ref, exc)

    def _submit(self):
        own_base = EvaluationResult.objects.filter(job=self.job, model="base", export=self.job.export, split="test")
        spec = job_run_spec(self.job, self.launcher, evaluate_base=self.evaluate and not own_base.exists(),
                            evaluate=self.evaluate)  # fmt: skip
        self.reporter.set_phase(f"starting on {self.launcher.name}")
        logger.info("launching on %s: %s", self.launcher.name, spec.command_line())
        handle = self.launcher.submit(spec)
        self._record_ref(handle.ref)
        return handle

    def _record_ref(self, ref: str) -> None:
        logger.info("%s run: %s", self.launcher.name, ref)
        with self.reporter.db_lock:
            TrainingJob.objects.filter(pk=self.job.pk, status=Status.RUNNING, worker_id=self.job.worker_id).update(
                launcher=self.launcher.name, launch_ref=ref)
        self.job.launcher, self.job.launch_ref = self.launcher.name, ref

    def _follow(self, handle) -> RunState:
        stop_sent = False
        while True:
            state = handle.state()  # first: the lines read next include everything up to this state
            lines = handle.new_lines()
            for line in lines:
                self._line(line)
            if lines:
                self._save_count(handle.ref)
            if state != RunState.RUNNING:
                return state
            if self.reporter.cancel_requested and not stop_sent:
                logger.info("stopping %s run %s", self.launcher.name, handle.ref)
                handle.stop()
                stop_sent = True
            if self.reporter.lost:
                return RunState.RUNNING  # the job was taken from this worker; whoever claims it re-attaches
            time.sleep(settings.GRPO_LAUNCHER_POLL_SECONDS)

    def _line(self, line: str) -> None:
        self.lines_read += 1
        event = events.parse(line)
        if event is None:
            if self.lines_read > self.logged_before:  # else an earlier follower logged it already
                engine_logger.info("%s", line.rstrip())
            if line.startswith("error: "):
                self.error_line = line[len("error: "):].strip()
            return
        kind = event.get("event")
        if kind == "history":
            self._restore_metrics(event)
        elif kind == "evaluate":
            self.reporter.set_phase("evaluating tuned model" if event.get("adapter") else "evaluating base model")
        elif kind == "evaluated" and not event.get("adapter"):
            self._store_evaluation("base", event["output"])
        elif kind == "trained":
            self.summary = event["summary"]
        elif kind == "cancelled":
            logger.info("cancelled at step %s (checkpoint %s)", event.get("step"), event.get("checkpoint"))
        else:
            self.reporter.event(event)

    def _restore_metrics(self, event: dict) -> None:
        self.run.store_metric_rows(event["rows"], source=event["checkpoint"])

    def _store_evaluation(self, model: str, url: str) -> None:
        self.run.store_evaluation(model, storage.read_json(url))

    def _results(self) -> tuple[str, dict]:
        if self.summary is None:
            raise LaunchedRunFailed("the engine finished without reporting a training result (see the job log)")
        if not self.summary.get("global_step"):
            raise ValueError("training ran 0 optimizer steps, so nothing was learned: add train prompts, or lower "
                             "per_device_train_batch_size or gradient_accumulation_steps")
        if self.evaluate:
            self._store_evaluation("tuned", training_url(self.job, "evaluation-tuned.json"))
        return Status.SUCCEEDED, {
            "result": finite(self.summary),
            "adapter_dir": adapter_dir_value(self.summary["adapter_dir"]),
        }


def _stop_quietly(handle) -> None:
    try:
        handle.stop()
    except Exception as exc:  # noqa: BLE001 - the error being raised is the one to report
        logger.warning("could not stop %s: %s", handle.ref, exc)
