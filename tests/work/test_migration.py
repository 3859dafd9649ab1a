"""Migrating to the kernel keeps the data: a job's merged-model columns become an ``AdapterMerge`` row
(done -> succeeded, its folder and error kept; never asked -> no row), and back again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("training", "0009_jobmetric_validation")]
AFTER = [("training", "0011_remove_job_merge_columns")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_merge_columns_become_adapter_merge_rows_and_back():
    apps = _migrate(BEFORE)
    project = apps.get_model("ranking_app", "Project").objects.create(name="M", slug="m")
    job_model = apps.get_model("training", "TrainingJob")
    made = {merge_status: job_model.objects.create(project=project, base_model="m", config={}, status="succeeded",
                                                   merge_status=merge_status, merged_dir=f"job/{merge_status}",
                                                   merge_error="boom" if merge_status == "failed" else "")
            for merge_status in ("", "queued", "running", "done", "failed")}  # fmt: skip
    try:
        apps = _migrate(AFTER)
        merges = {m.job_id: m for m in apps.get_model("training", "AdapterMerge").objects.all()}
        assert made[""].pk not in merges
        assert merges[made["done"].pk].status == "succeeded" and merges[made["done"].pk].merged_dir == "job/done"
        assert merges[made["failed"].pk].status == "failed" and merges[made["failed"].pk].error == "boom"
        assert merges[made["queued"].pk].status == "queued"
        assert merges[made["running"].pk].status == "running" and merges[made["running"].pk].heartbeat_at
        apps = _migrate(BEFORE)
        back = dict(apps.get_model("training", "TrainingJob").objects.values_list("pk", "merge_status"))
        assert back == {job.pk: status for status, job in made.items()}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the schema the other tests expect
