"""Storage URLs (fsspec) and the @grpo progress lines the launchers read."""

import subprocess
import sys
import time

import pytest

from tests.integration.stack import _connectable, free_port
from training.engine import events, storage


def test_event_lines_round_trip_and_plain_lines_are_not_events(capsys):
    events.emit({"phase": "train", "step": 3, "loss": float("nan"), "rows": [{"kl": float("inf")}]})
    line = capsys.readouterr().out.rstrip("\n")
    assert events.parse(line) == {"phase": "train", "step": 3, "loss": None, "rows": [{"kl": None}]}
    assert events.parse("{'loss': 0.5}") is None
    assert events.parse(events.PREFIX + '{"phase": "tra') is None  # a line cut short by a kill


def test_local_urls_are_used_in_place(tmp_path):
    with storage.synced_dir(f"file://{tmp_path}/out") as local:
        (tmp_path / "out" / "a.txt").write_text("x")
        assert local == str(tmp_path / "out")
    storage.write_text(str(tmp_path / "deep" / "e.json"), "{}")
    assert storage.read_json(tmp_path / "deep" / "e.json") == {}
    assert not storage.is_remote(tmp_path) and storage.is_remote("s3://grpo-test/k")


@pytest.mark.ray
def test_a_remote_folder_is_worked_on_in_a_local_copy_and_only_changes_go_back(monkeypatch):
    pytest.importorskip("s3fs", reason="s3fs is not installed (requirements/base.txt)")
    boto3 = pytest.importorskip("boto3", reason="moto[server] is not installed (requirements/test.txt)")
    pytest.importorskip("moto.server", reason="moto[server] is not installed (requirements/test.txt)")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _connectable(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "k",
                            "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="grpo-test")
        storage.write_text("s3://grpo-test/run/output/checkpoint-2/trainer_state.json", '{"global_step": 2}')
        with storage.synced_dir("s3://grpo-test/run/output") as local:  # what a resumed run sees
            assert storage.read_json(f"{local}/checkpoint-2/trainer_state.json") == {"global_step": 2}
            with open(f"{local}/adapter.bin", "wb") as handle:
                handle.write(b"weights")
        keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="grpo-test")["Contents"])
        assert keys == ["run/output/adapter.bin", "run/output/checkpoint-2/trainer_state.json"]
        with storage.local_file("s3://grpo-test/run/output/adapter.bin") as path:
            assert open(path, "rb").read() == b"weights"
    finally:
        server.terminate()
        server.wait(10)
