"""Readable error messages, and the stale-heartbeat command."""

import errno

import pytest
from django.core.management import call_command
from django.utils import timezone

from training.errors import OOM_MESSAGE, readable_error
from training.models import TrainingJob
from training.services.jobs import job_launch


class OutOfMemoryError(RuntimeError):  # the name torch.cuda.OutOfMemoryError has
    pass


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OutOfMemoryError("CUDA out of memory. Tried to allocate 1 GiB"), OOM_MESSAGE),
        (RuntimeError("CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"), OOM_MESSAGE),
        (MemoryError(), "out of memory (RAM): lower the batch size or max_length, or use a smaller model"),
        (OSError(errno.ENOSPC, "No space left on device", "/data/x.bin"),
         "disk full while writing /data/x.bin: free space in the data directory"),
        (ValueError("data.jsonl: no valid pairs in the train split"), "data.jsonl: no valid pairs in the train split"),
        (KeyError("input_ids"), "KeyError: 'input_ids'"),
    ],
)
def test_errors_become_one_readable_sentence(exc, expected):
    assert readable_error(exc) == expected


def test_the_time_limit_names_its_setting():
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    assert "GRPO_TRAINING_TIME_LIMIT_HOURS" in readable_error(TimeLimitExceeded())


@pytest.mark.django_db
def test_training_reap_marks_only_stale_running_jobs_interrupted(ranked, capsys, settings):
    settings.TRAINING_STALE_SECONDS = 60
    config = {"model_name_or_path": "fake/tiny"}
    stale, fresh = (job_launch(project=ranked, config=config, validated_only=False) for _ in range(2))
    now = timezone.now()
    TrainingJob.objects.filter(pk=stale.pk).update(status="running", heartbeat_at=now - timezone.timedelta(seconds=61))
    TrainingJob.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=now - timezone.timedelta(seconds=30))
    call_command("training_reap")
    assert "1 job(s) marked interrupted" in capsys.readouterr().out
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("interrupted", "running")
    assert stale.finished_at is not None and "resume continues from the last checkpoint" in stale.error
