"""A job's adapter folder: the one resolver of ``adapter_dir``, the stored value, the download archive."""

import os
import zipfile

import pytest

from training.models import TrainingJob
from training.services.adapters import adapter_archive, adapter_dir_value, adapter_path


def saved_adapter(folder):
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


def test_adapter_dir_is_relative_to_the_training_dir_or_absolute(training_dirs, tmp_path):
    inside = saved_adapter(training_dirs / "job-1" / "output" / "adapter")
    outside = saved_adapter(tmp_path / "elsewhere" / "adapter")
    assert adapter_dir_value(inside) == os.path.join("job-1", "output", "adapter")
    assert adapter_dir_value(outside) == str(outside)
    assert adapter_path(TrainingJob(adapter_dir=adapter_dir_value(inside))) == inside
    assert adapter_path(TrainingJob(adapter_dir=str(outside))) == outside


@pytest.mark.parametrize("adapter_dir", ["", "job-9/output/adapter", "job-2/empty"])
def test_no_adapter_when_unset_missing_or_without_its_config(training_dirs, adapter_dir):
    (training_dirs / "job-2" / "empty").mkdir(parents=True)
    assert adapter_path(TrainingJob(adapter_dir=adapter_dir)) is None
    assert adapter_archive(TrainingJob(adapter_dir=adapter_dir)) is None


def test_the_archive_is_written_once_and_again_when_the_adapter_changes(training_dirs):
    folder = saved_adapter(training_dirs / "job-1" / "output" / "adapter")
    job = TrainingJob(adapter_dir="job-1/output/adapter")
    archive = adapter_archive(job)
    assert archive == folder.parent / "adapter.zip"
    assert sorted(zipfile.ZipFile(archive).namelist()) == ["adapter/adapter_config.json", "adapter/adapter_model.safetensors"]
    os.utime(archive, (1_000_000_000, 1_000_000_000))  # older than the adapter's files
    (folder / "adapter_model.safetensors").write_bytes(b"new weights")
    assert adapter_archive(job) == archive and archive.stat().st_mtime > 1_000_000_000
    assert zipfile.ZipFile(archive).read("adapter/adapter_model.safetensors") == b"new weights"
    written = archive.stat().st_mtime_ns
    assert adapter_archive(job) == archive and archive.stat().st_mtime_ns == written  # up to date: not rewritten
    assert not list(folder.parent.glob("*.tmp"))
