"""A job whose worker stopped sending heartbeats reads as interrupted everywhere, while only the
reaper (or a person's cancel or resume) stores it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from training.models import TrainingJob
from training.selectors import job_get, job_list
from training.services.jobs import job_launch, job_resume


@pytest.fixture
def stale_job(db, ranked, settings):
    settings.TRAINING_STALE_SECONDS = 60
    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny"}, validated_only=False)
    TrainingJob.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - timezone.timedelta(seconds=61)
    )
    return job


def _stored(job) -> str:
    return TrainingJob.objects.values_list("status", flat=True).get(pk=job.pk)


def test_a_stale_job_reads_as_interrupted_and_the_read_writes_nothing(stale_job, admin_client):
    shown = job_get(pk=stale_job.pk)
    assert shown.status == "interrupted" and "heartbeat" in shown.error
    assert [j.pk for j in job_list(status="interrupted")] == [stale_job.pk]
    assert not job_list(status="running").exists() and job_list()[0].status == "interrupted"
    html = admin_client.get(reverse("training:job_detail", args=[stale_job.pk])).content.decode()
    assert 'id="job-status">interrupted' in html
    assert admin_client.get(f"/api/jobs/{stale_job.pk}/").json()["status"] == "interrupted"
    assert _stored(stale_job) == "running"  # pages and API only read


def test_resuming_a_job_shown_interrupted_stores_it_then_queues_it(stale_job, broker):
    job = job_resume(job=job_get(pk=stale_job.pk))
    assert job.status == "queued" and _stored(stale_job) == "queued"
