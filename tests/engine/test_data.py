"""Reading the exchange format, splits, tokenisation and group batching."""

from __future__ import annotations

import json

import pytest
import torch

from training.engine.data import GroupCollator, build_group_dataset, tokenize_group
from training.engine.dataset_hash import dataset_sha256
from training.engine.modeling import build_byte_tokenizer
from training.engine.records import DataError, dense_tiers, load_records, select_split

from .conftest import lamp_records, oasst_records


def test_rankings_are_normalised_to_dense_tiers_with_unranked_as_minus_one():
    assert dense_tiers([1, 3, 3, None]) == [0, 1, 1, -1]
    assert dense_tiers([0, 1, 2, 3]) == [0, 1, 2, 3]
    assert dense_tiers([-4, -2, -4]) == [0, 1, 0]


def test_json_array_and_jsonl_give_the_same_records(tmp_path):
    records = [{"id": "p-1", "prompt": "Q?", "responses": ["a", "b"], "rankings": [1, 0], "split": "train"}]
    (tmp_path / "a.json").write_text(json.dumps(records))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert load_records(tmp_path / "a.json") == load_records(tmp_path / "a.jsonl")
    assert load_records(tmp_path / "a.json")[0]["ranks"] == [1, 0]


def test_saved_datasetdict_folder_is_read_with_split_names(tmp_path):
    from datasets import Dataset, DatasetDict

    row = {"id": "x", "prompt": "Q", "responses": ["a", "b", "c"], "rankings": [0, 1, None]}
    DatasetDict({"train": Dataset.from_list([row]), "test": Dataset.from_list([dict(row, id="y")])}).save_to_disk(
        str(tmp_path / "dd"))
    records = load_records(tmp_path / "dd")
    assert {(r["id"], r["split"]) for r in records} == {("x", "train"), ("y", "test")}
    assert records[0]["ranks"] == [0, 1, -1]
    assert len(dataset_sha256(tmp_path / "dd")) == 64


@pytest.mark.parametrize("bad, message", [
    ({"prompt": "Q", "responses": "ab"}, "record 1: responses"),
    ({"prompt": "Q", "responses": ["a", "b"], "rankings": [0]}, "record 1: rankings"),
    ({"prompt": 3, "responses": ["a"]}, "record 1: prompt"),
    ({"prompt": "Q", "responses": ["a", "b"], "annotations": [{"annotator": "x", "rankings": [0]}]},
     r"record 1: annotations\[0\].rankings"),
    ({"prompt": "Q", "responses": ["a", "b"], "annotations": {"x": [0, 1]}}, "record 1: annotations"),
])
def test_bad_records_are_rejected_with_record_number_and_field(tmp_path, bad, message):
    (tmp_path / "bad.json").write_text(json.dumps([bad]))
    with pytest.raises(DataError, match=message):
        load_records(tmp_path / "bad.json")


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_records(tmp_path / "nope.jsonl")


def test_without_splits_a_stable_fifth_is_held_out():
    records = [{"id": f"r{i}", "split": None} for i in range(1000)]
    test = select_split(records, "test")
    train = select_split(records, "train")
    assert len(test) + len(train) == 1000 and 150 < len(test) < 250
    assert select_split(records, "test") == test


def test_tokenize_group_cuts_the_prompt_middle_keeping_bos_and_responses_to_max_length():
    tokenizer = build_byte_tokenizer()
    record = {"id": "1", "prompt": "0123456789", "responses": ["abcdefghij", "x"], "ranks": [0, 1]}
    group = tokenize_group(record, tokenizer, max_length=8, max_prompt_length=4)
    assert tokenizer.decode(group["prompt_ids"]) == "<s>089"  # BOS kept, then first third and last two thirds
    assert tokenizer.decode(group["response_ids"][0]) == "abc</s>"  # cut at the end, EOS kept
    assert group["truncated_prompt"] and group["truncated_responses"] == 1
    assert group["response_ids"][1] == tokenizer("x</s>", add_special_tokens=False)["input_ids"]


def test_tokenize_group_uses_the_chat_template_when_there_is_one():
    tokenizer = build_byte_tokenizer()
    tokenizer.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
                               "{% if add_generation_prompt %}<assistant>{% endif %}")
    record = {"id": "1", "prompt": "hi", "responses": ["yo"], "ranks": [0]}
    group = tokenize_group(record, tokenizer, max_length=64, max_prompt_length=32)
    assert tokenizer.decode(group["prompt_ids"], skip_special_tokens=True) == "<user>hi<assistant>"
    assert tokenizer.decode(group["response_ids"][0]) == "yo</s>"


def test_collator_batches_whole_groups_of_different_k_padding_ranks_with_minus_one():
    groups = [
        {"prompt_ids": [5, 6], "response_ids": [[7], [8, 9], [10]], "ranks": [0, 1, 1], "ref_logps": [-1, -2, -3]},
        {"prompt_ids": [5], "response_ids": [[11, 12], [13]], "ranks": [1, 0], "ref_logps": [-4, -5]},
    ]
    batch = GroupCollator(pad_token_id=0)(groups)
    assert batch["input_ids"].shape == (5, 4)
    assert batch["ranks"].tolist() == [[0, 1, 1], [1, 0, -1]]
    assert batch["ref_logps"].tolist() == [[-1, -2, -3], [-4, -5, 0]]
    assert batch["group_index"].tolist() == [0, 0, 0, 1, 1]
    assert batch["slot_index"].tolist() == [0, 1, 2, 0, 1]
    assert batch["completion_mask"][1].tolist() == [0, 0, 1, 1]
    assert batch["attention_mask"][4].tolist() == [1, 1, 0, 0]
    assert torch.equal(batch["token_counts"], torch.tensor([[1.0, 2.0, 1.0], [2.0, 1.0, 0.0]]))


def test_every_annotators_ranking_reaches_the_batch_and_a_group_without_annotations_uses_its_consensus(tmp_path):
    records = [
        {"id": "a", "prompt": "p", "responses": ["x", "y", "z"], "rankings": [0, 1, 2],
         "annotations": [{"annotator": "alice", "rankings": [0, 2, 1]}, {"annotator": "bob", "rankings": [3, 5, None]}]},
        {"id": "b", "prompt": "p", "responses": ["x", "y"], "rankings": [1, 0]},
    ]
    (tmp_path / "a.json").write_text(json.dumps(records))
    loaded = load_records(tmp_path / "a.json")
    assert loaded[0]["annotator_ranks"] == [[0, 2, 1], [0, 1, -1]]
    tokenizer = build_byte_tokenizer()
    dataset = build_group_dataset(loaded, tokenizer, max_length=32, max_prompt_length=16)
    batch = GroupCollator(pad_token_id=0)(dataset.groups)
    assert batch["annotator_ranks"].tolist() == [[[0, 2, 1], [0, 1, -1]], [[1, 0, -1], [-1, -1, -1]]]


def test_groups_without_a_valid_pair_are_dropped():
    tokenizer = build_byte_tokenizer()
    records = [{"id": "a", "prompt": "p", "responses": ["x", "y"], "ranks": [0, 0]},
               {"id": "b", "prompt": "p", "responses": ["x", "y"], "ranks": [0, -1]},
               {"id": "c", "prompt": "p", "responses": ["x", "y"], "ranks": [1, 0]}]
    dataset = build_group_dataset(records, tokenizer, max_length=32, max_prompt_length=16)
    assert [g["id"] for g in dataset.groups] == ["c"]


def test_real_oasst_and_lamp_groups_load_and_tokenise(tmp_path):
    from training.engine.synthetic import write_jsonl

    for name, records in [("oasst", oasst_records()), ("lamp", lamp_records())]:
        path = write_jsonl(records, tmp_path / f"{name}.jsonl")
        loaded = load_records(path)
        assert len(loaded) == len(records)
        dataset = build_group_dataset(select_split(loaded, "train"), build_byte_tokenizer(), max_length=256,
                                      max_prompt_length=128)
        assert len(dataset) > 10
        assert all(len(p) + len(r) <= 256 for g in dataset.groups for p in [g["prompt_ids"]] for r in g["response_ids"])


def test_reading_records_imports_no_torch_so_the_web_process_can_summarise_an_export():
    import subprocess
    import sys

    code = ("import sys, training.engine.records, training.engine.readiness; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
