"""The worker's side of a merged model (the actor ``tasks.merge_job_adapter`` calls ``merge_run``): claim
the queued ``AdapterMerge``, fold the adapter into its base (``training.engine.merge``), zip it, record it.
The web side that asks for it is ``training/services/merges.py``."""

from __future__ import annotations

import logging
import shutil
import traceback
from pathlib import Path

from django.conf import settings

from ranking_app.archives import zip_directory

from .errors import readable_error
from .models import AdapterMerge
from .services.adapters import adapter_path
from .work.heartbeat import Heartbeat
from .work.transitions import RunCancelled, current_worker_id, retry_locked, run_claim, run_finish, run_stop_point

logger = logging.getLogger(__name__)
MERGED = "merged"
Status = AdapterMerge.Status


def merge_run(merge_id: int) -> str:
    """Claim the queued build ``merge_id``, merge, zip; returns what happened."""
    worker_id = current_worker_id()
    if not retry_locked(lambda: run_claim(AdapterMerge, merge_id, worker_id)):
        return "skipped"  # a duplicate delivery, or nothing asked for
    merge = AdapterMerge.objects.select_related("job").get(pk=merge_id)
    output = merge.job.work_path / MERGED
    try:
        with Heartbeat(merge):
            _build(merge, output)
    except RunCancelled:
        shutil.rmtree(output, ignore_errors=True)
        output.with_name(f"{MERGED}.zip").unlink(missing_ok=True)
        recorded = retry_locked(lambda: run_finish(AdapterMerge, merge_id, worker_id, Status.CANCELLED))
        return Status.CANCELLED if recorded else "lost"
    except Exception as exc:  # noqa: BLE001 - recorded on the build for the person who asked
        logger.exception("merging the adapter of job %s failed", merge.job_id)
        fields = {"error": readable_error(exc), "error_detail": traceback.format_exc()}
        recorded = retry_locked(lambda: run_finish(AdapterMerge, merge_id, worker_id, Status.FAILED, **fields))
        return Status.FAILED if recorded else "lost"
    merged_dir = str(output.relative_to(settings.TRAINING_DIR))
    recorded = retry_locked(lambda: run_finish(AdapterMerge, merge_id, worker_id, Status.SUCCEEDED,
                                               merged_dir=merged_dir))  # fmt: skip
    return Status.SUCCEEDED if recorded else "lost"


def _build(merge: AdapterMerge, output: Path) -> None:
    """Merge, then zip; a cancel asked meanwhile stops it at the step boundary (``RunCancelled``)."""
    from .engine.merge import merge_adapter  # torch: only in the worker, when a build runs

    job = merge.job
    shutil.rmtree(output, ignore_errors=True)  # a half-written earlier attempt
    run_stop_point(AdapterMerge, merge.pk)
    merge_adapter(job.base_model, str(adapter_path(job)), str(output))
    run_stop_point(AdapterMerge, merge.pk)
    zip_directory(output, output.with_name(f"{MERGED}.zip"), root=MERGED)
