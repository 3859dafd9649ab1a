"""Reading exchange files: JSON array, JSONL, limits and malformed input."""

import io
import json

import pytest

from ranking_app.exchange.jsonl import ExchangeError, clean_records, read_exchange_file
from ranking_app.ranking import RankingRules

from .conftest import record, write_jsonl


def test_reads_a_json_array_and_jsonl_alike(tmp_path):
    records = [record("a"), record("b")]
    array = tmp_path / "a.json"
    array.write_text(json.dumps(records, indent=2))
    lines = write_jsonl(tmp_path / "a.jsonl", records)
    assert read_exchange_file(array) == records
    assert read_exchange_file(lines) == records
    assert read_exchange_file(str(lines)) == records


def test_reads_open_files_text_or_binary():
    data = json.dumps([record("a")])
    assert read_exchange_file(io.BytesIO(data.encode()))[0]["id"] == "a"
    assert read_exchange_file(io.StringIO(data))[0]["id"] == "a"


def test_single_pretty_printed_object_is_one_record(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record("a"), indent=2))
    assert read_exchange_file(path) == [record("a")]


def test_malformed_jsonl_lists_every_bad_line_with_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record("a")) + "\n{not json\n\n" + json.dumps(record("b")) + "\n[1, \n")
    with pytest.raises(ExchangeError) as caught:
        read_exchange_file(path)
    assert len(caught.value.errors) == 2
    assert caught.value.errors[0].startswith("line 2: malformed JSON")
    assert caught.value.errors[1].startswith("line 5: malformed JSON")


def test_malformed_json_array_reports_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": "a"},\n  {"id": "b",}\n]')
    with pytest.raises(ExchangeError) as caught:
        read_exchange_file(path)
    assert caught.value.errors == [caught.value.errors[0]]
    assert "malformed JSON at line 3" in caught.value.errors[0]


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("  \n\n")
    with pytest.raises(ExchangeError, match="empty"):
        read_exchange_file(path)


def test_file_over_the_size_limit_is_rejected_before_reading(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    path = write_jsonl(tmp_path / "big.jsonl", [record("a"), record("b")])
    with pytest.raises(ExchangeError, match=r"file: too big \(\d+ bytes; the limit is 100 bytes"):
        read_exchange_file(path)
    with pytest.raises(ExchangeError, match="too big"):
        read_exchange_file(io.BytesIO(path.read_bytes()))


def test_non_utf8_and_missing_files_are_rejected(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"id": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(ExchangeError, match="not UTF-8"):
        read_exchange_file(path)
    with pytest.raises(ExchangeError, match="does not exist"):
        read_exchange_file(tmp_path / "nope.jsonl")


def test_a_line_that_is_not_an_object_is_a_bad_record(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("42\n")
    with pytest.raises(ExchangeError) as caught:
        clean_records(read_exchange_file(path), rules=RankingRules())
    assert caught.value.errors == ["record 1: record: expected a JSON object (got number)"]
