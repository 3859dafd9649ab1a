"""One dataset hash: a model card's ``dataset.sha256`` equals the hash of the export it was trained on,
for an export written by ``manage.py export_rankings`` and trained on with ``python -m training.engine``
(JSONL file and Hugging Face folder), and for a job launched from the web."""

import hashlib
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from ranking_app.models import ExportSnapshot
from training.engine import make_tiny_model
from training.engine.cli import main
from training.engine.dataset_hash import dataset_sha256
from training.runner import execute_job
from training.services.jobs import job_launch

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

TINY_TRAIN = ["--lora_r", "4", "--lora_alpha", "8", "--max_length", "64", "--per_device_train_batch_size", "6",
              "--num_train_epochs", "1", "--quantization", "none", "--save_steps", "1000", "--disable_tqdm", "true"]


@pytest.fixture
def tiny(tmp_path) -> str:
    return make_tiny_model(tmp_path / "tiny", hidden_size=64, num_hidden_layers=2)


def test_a_folder_hash_is_over_relative_paths_and_file_hashes(tmp_path):
    folder = tmp_path / "dd"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "data.arrow").write_bytes(b"rows")
    (folder / "dataset_dict.json").write_bytes(b"{}")
    lines = [f"{name}\0{hashlib.sha256(data).hexdigest()}\n" for name, data in
             [("dataset_dict.json", b"{}"), ("train/data.arrow", b"rows")]]
    assert dataset_sha256(folder) == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert dataset_sha256(folder / "dataset_dict.json") == hashlib.sha256(b"{}").hexdigest()


@pytest.mark.parametrize("format, name", [("hf", "export-hf"), ("jsonl", "export.jsonl")])
def test_an_export_from_the_command_line_trained_on_by_the_engine_cli_has_the_cards_hash(
        ranked, tiny, tmp_path, format, name, capsys):
    data = tmp_path / name
    call_command("export_rankings", project=ranked.slug, format=format, output=str(data), all=True)
    snapshot = ExportSnapshot.objects.get(project=ranked, format=format)
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--model", tiny, "--output", str(out), *TINY_TRAIN]) == 0
    adapter = out / "adapter"
    card_hash = (adapter / "dataset.sha256").read_text().strip()
    assert card_hash == snapshot.sha256 == dataset_sha256(data)
    assert f"sha256 `{snapshot.sha256}`" in (adapter / "README.md").read_text()
    assert json.loads((adapter / "grpo_training.json").read_text())["dataset_sha256"] == snapshot.sha256


@pytest.mark.django_db(transaction=True)  # the runner's heartbeat thread has its own connection (PostgreSQL)
def test_a_web_launched_jobs_export_hash_is_its_adapters_card_hash(ranked, tiny, settings):
    config = {"model_name_or_path": tiny, "quantization": "none", "lora_r": 4, "lora_alpha": 8, "max_length": 64,
              "per_device_train_batch_size": 6, "num_train_epochs": 1.0, "save_steps": 1000}
    job = job_launch(project=ranked, config=config, validated_only=False)
    assert execute_job(job.pk) == "succeeded"
    job.refresh_from_db()
    adapter = Path(settings.TRAINING_DIR) / job.adapter_dir
    assert (adapter / "dataset.sha256").read_text().strip() == job.export.sha256 == job.result["dataset_sha256"]
    assert f"sha256 `{job.export.sha256}`" in (adapter / "README.md").read_text()
