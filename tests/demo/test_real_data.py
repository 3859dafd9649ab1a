"""The real-data converters give valid exchange records, and the shipped copies are what they produce."""

import pytest

from ranking_app import real_data
from ranking_app.ranking import normalize_ranks, validate_ranks


def _check_records(records, n_records, sizes):
    assert len(records) == n_records
    assert len({r["id"] for r in records}) == n_records
    for record in records:
        assert list(record) == ["id", "prompt", "responses", "response_details", "annotations", "split", "metadata"]
        assert len(record["response_details"]) == len(record["responses"])
        assert record["prompt"].strip() and all(text.strip() for text in record["responses"])
        assert len(record["responses"]) in sizes
        assert record["split"] in {"train", "test"}
        for annotation in record["annotations"]:
            ranks = annotation["rankings"]
            assert validate_ranks(ranks, len(record["responses"])) == ranks  # lengths match, dense
            assert sorted(ranks) == list(range(len(ranks)))  # full rankings, no ties in these sources
    test_share = sum(r["split"] == "test" for r in records) / n_records
    assert 0.12 < test_share < 0.3


def test_shipped_lamp_records_are_valid():
    records = real_data.shipped_records("lamp")
    _check_records(records, 201, {3})
    assert all(len(r["annotations"]) == 3 for r in records)
    assert len({a["annotator"] for r in records for a in r["annotations"]}) == 13
    twins = [r["id"] for r in records if r["metadata"]["source_id"] == "gene_batch1_10"]
    assert sorted(twins) == ["lamp-gene_batch1_10-i32", "lamp-gene_batch1_10-i5"]


def test_shipped_oasst_records_are_valid_and_not_best_first():
    records = real_data.shipped_records("oasst")
    _check_records(records, 154, set(range(3, 10)))
    assert all([a["annotator"] for a in r["annotations"]] == ["oasst"] for r in records)
    best_positions = {r["annotations"][0]["rankings"].index(0) for r in records}
    assert len(best_positions) > 3  # shuffled: the best reply is not always first


@pytest.mark.skipif(not real_data.SHARED_DIR.exists(), reason="../shared/data/real not on this machine")
def test_regenerating_from_the_sources_reproduces_the_shipped_files(tmp_path):
    counts = real_data.regenerate(real_data.SHARED_DIR, tmp_path)

    assert counts == {"lamp": 201, "oasst": 154}
    for name in counts:
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (real_data.SHIPPED_DIR / f"{name}.jsonl").read_bytes()


def test_lamp_ranks_one_to_three_become_zero_to_two_aligned_with_responses():
    row = {
        "id": "x", "instruction_id": 7, "instruction": "Write.",
        "responses": {"AI-edited": "b", "Human-edited": "c", "AI-generated": "a"},
        "annotations": [{"annotator": "ann", "rank": {"AI-generated": 1, "AI-edited": 3, "Human-edited": 2}}],
    }
    record = real_data.lamp_record(row)

    assert record["id"] == "lamp-x-i7"
    assert record["responses"] == ["b", "c", "a"]
    assert record["annotations"] == [{"annotator": "ann", "rankings": [2, 1, 0]}]
    assert [d["source"] for d in record["response_details"]] == ["AI-edited", "Human-edited", "AI-generated"]


def test_oasst_ranking_follows_its_replies_through_the_shuffle():
    replies = [{"message_id": f"m{i}", "rank": i, "text": f"reply {i}", "model_name": None} for i in range(6)]
    row = {"message_tree_id": "t", "parent_message_id": "p", "context": [{"role": "prompter", "text": "Hi?"}],
           "replies": replies}
    record = real_data.oasst_record(row)

    ranks = record["annotations"][0]["rankings"]
    for text, rank, detail in zip(record["responses"], ranks, record["response_details"], strict=True):
        assert text == f"reply {rank}"
        assert detail == {"source": "human", "metadata": {"message_id": f"m{rank}"}}
    assert normalize_ranks(record["annotations"][0]["rankings"]) == record["annotations"][0]["rankings"]


def test_a_conversation_is_rendered_with_speaker_labels():
    context = [{"role": "prompter", "text": "Q1"}, {"role": "assistant", "text": "A1"}, {"role": "prompter", "text": "Q2"}]

    assert real_data.render_conversation(context) == "**User:** Q1\n\n**Assistant:** A1\n\n**User:** Q2"
    assert real_data.render_conversation(context[:1]) == "Q1"


def test_bad_source_rows_raise_a_clear_error(tmp_path):
    with pytest.raises(real_data.SourceError, match="LAMP row 1: missing or malformed field"):
        real_data.lamp_records([{"id": "x", "responses": {"a": "1", "b": "2"}, "annotations": []}])
    with pytest.raises(real_data.SourceError, match="annotator 'z' ranks"):
        real_data.lamp_record({"id": "x", "instruction_id": 1, "instruction": "i", "responses": {"a": "1", "b": "2"},
                               "annotations": [{"annotator": "z", "rank": {"a": 1}}]})
    with pytest.raises(real_data.SourceError, match="duplicate record id"):
        row = {"id": "x", "instruction_id": 1, "instruction": "i", "responses": {"a": "1", "b": "2"}, "annotations": []}
        real_data.lamp_records([row, row])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"ok": 1}\n{not json\n')
    with pytest.raises(real_data.SourceError, match="broken.jsonl line 2: malformed JSON"):
        real_data.read_jsonl(broken)


def test_the_command_line_reports_missing_sources(tmp_path, capsys):
    assert real_data.main(["--source", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    assert "no source files" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
