"""Label Studio JSON exports of ``<List>`` + ``<Ranker>`` and ``<Pairwise>`` projects.

* **Ranker** (template ``generative-llm-ranker``): the task's ``data`` holds the prompt and a list
  of items ``{"id", "title", "body"}``; each annotation's ``value.ranker`` maps columns to item
  ids. With buckets, items in one bucket tie and buckets rank in the labeling config's order
  (``--label-config config.xml`` or ``--buckets best,ok,wrong``); items left in the ``"_"``
  column (or in no column) are unranked. Without buckets (``{"<ranker name>": [ids]}`` or the
  older bare list) the order is strict.
* **Pairwise**: ``value.selected`` is ``"left"`` or ``"right"``; the two compared texts are the
  data fields named by the tag's ``toName`` (from the labeling config or the result).

Buckets named ``tier-1``, ``tier-2``, ... (GRPO Studio's own Label Studio export) rank in their
number's order without a config. A task's ``data.external_id`` (also from that export) is the
record id, else ``ls-<task id>``; ``data.split`` (train/test) is kept.

Each annotation is the ranking of its ``completed_by`` user (``ls-<id>`` unless an email or
username is given); cancelled annotations are skipped, and a later annotation by the same
user replaces an earlier one.

The writer (``--format label-studio``) makes one task per prompt with the consensus as a bucketed
prediction (``label_studio_task``), which this reader takes back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..jsonl import ExchangeError, write_json_array
from .conversion import ImportOptions, RowError, convert_rows, ordered_ranks, text_of, username

NAME = "label-studio"
PROMPT_KEYS = ("prompt", "question", "instruction", "input", "text")
UNRANKED_COLUMN = "_"
TIER_BUCKET = re.compile(r"^tier-\d+\Z")


def mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if isinstance(first.get("data"), dict):
        return None
    return "tasks have no `data` object"


def convert(rows: list, options: ImportOptions) -> list[dict]:
    config = _Config.parse(options)
    return convert_rows(rows, lambda task: _task_record(task, config), lambda task: task.get("id"))


class _Config:
    """What the labeling config (or ``--buckets``) says: bucket order, pairwise left/right names."""

    def __init__(self, buckets: tuple[str, ...], pairwise: tuple[str, ...], values: dict[str, str]):
        self.buckets, self.pairwise, self.values = buckets, pairwise, values

    @classmethod
    def parse(cls, options: ImportOptions) -> _Config:
        if not options.label_config:
            return cls(tuple(options.buckets), (), {})
        try:
            root = ET.fromstring(options.label_config)
        except ET.ParseError as error:
            raise ExchangeError([f"label config: not valid XML ({error})"]) from None
        buckets = tuple(b.get("name", "") for b in root.iter("Bucket")) or tuple(options.buckets)
        pairwise = next((tuple(p.get("toName", "").split(",")) for p in root.iter("Pairwise")), ())
        values = {tag.get("name", ""): tag.get("value", "").lstrip("$") for tag in root.iter() if tag.get("value")}
        return cls(buckets, pairwise, values)


def _task_record(task: dict, config: _Config) -> dict:
    data = task.get("data")
    if not isinstance(data, dict):
        raise RowError("data", "must be an object (a Label Studio task)")
    results = [(a, r) for a in _annotations(task) for r in a.get("result") or [] if isinstance(r, dict)]
    if any(r.get("type") == "pairwise" or "selected" in (r.get("value") or {}) for _, r in results):
        prompt, responses, item_ids = _prompt(data), *_pairwise_texts(data, results, config)
    else:
        prompt, responses, item_ids = _prompt(data), *_items(data)
    annotations = {}
    for annotation, result in results:
        ranks = _ranks(result, item_ids, config)
        if ranks is not None:
            annotations[username(annotation.get("completed_by"), "ls")] = ranks
    record = {"prompt": prompt, "responses": responses, "metadata": {"label_studio_task": task.get("id")}}
    record["annotations"] = [{"annotator": name, "rankings": ranks} for name, ranks in annotations.items()]
    record_id = data.get("external_id") or (f"ls-{task['id']}" if task.get("id") is not None else None)
    if record_id is not None:
        record["id"] = record_id
    if data.get("split") in ("train", "validation", "test"):
        record["split"] = data["split"]
    return record


def _annotations(task: dict) -> list[dict]:
    annotations = task.get("annotations") or task.get("completions") or []
    return [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]


def _prompt(data: dict) -> str:
    for key in PROMPT_KEYS:
        if isinstance(data.get(key), str):
            return text_of(data[key], f"data.{key}")
    raise RowError("data", f"no prompt text (expected one of {', '.join(PROMPT_KEYS)})")


def _items(data: dict) -> tuple[list[str], list[str]]:
    """(responses, item ids) from the task's list of ``{"id", "title", "body"}`` items."""
    lists = [(k, v) for k, v in data.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
    if len(lists) != 1:
        raise RowError("data", "expected exactly one list of items {\"id\", \"title\", \"body\"} to rank")
    key, items = lists[0]
    ids = [str(item.get("id")) for item in items]
    if None in (item.get("id") for item in items) or len(set(ids)) != len(ids):
        raise RowError(f"data.{key}", "every item needs a unique `id`")
    texts = [item.get("body") or item.get("html") or item.get("title") for item in items]
    return [text_of(text, f"data.{key}[{i}].body") for i, text in enumerate(texts)], ids


def _pairwise_texts(data: dict, results: list, config: _Config) -> tuple[list[str], list[str]]:
    names = config.pairwise or next((tuple(str(r.get("to_name", "")).split(",")) for _, r in results), ())
    keys = [config.values.get(name, name) for name in names]
    if len(keys) != 2 or not all(isinstance(data.get(k), str) for k in keys):
        raise RowError("data", f"the two compared texts {keys} are not in the task data (pass --label-config)")
    return [text_of(data[k], f"data.{k}") for k in keys], ["left", "right"]


def _ranks(result: dict, item_ids: list[str], config: _Config) -> list | None:
    value = result.get("value") or {}
    if "selected" in value:
        if value["selected"] not in ("left", "right"):
            raise RowError("value.selected", f"must be \"left\" or \"right\" (got {value['selected']!r})")
        return [0, 1] if value["selected"] == "left" else [1, 0]
    ranker = value.get("ranker")
    if ranker is None:
        return None  # another control's result (e.g. a comment)
    if isinstance(ranker, list):
        return _strict(ranker, item_ids)
    if not isinstance(ranker, dict):
        raise RowError("value.ranker", "must be an object of columns or a list of item ids")
    if set(ranker) == {result.get("from_name")} and result["from_name"] not in config.buckets:
        return _strict(ranker[result["from_name"]], item_ids)
    return _bucketed(ranker, item_ids, config.buckets)


def _strict(ids: list, item_ids: list[str]) -> list:
    return ordered_ranks(([p] for p in _positions(ids, item_ids, "value.ranker")), len(item_ids))


def _bucketed(ranker: dict, item_ids: list[str], buckets: tuple[str, ...]) -> list:
    columns = [c for c in ranker if c != UNRANKED_COLUMN]
    if not buckets and all(TIER_BUCKET.match(c) for c in columns):  # GRPO Studio's own export: tier-1 is best
        buckets = tuple(sorted(columns, key=lambda c: int(c.split("-")[1])))
    if not buckets:
        raise RowError("value.ranker", f"buckets {columns} have no known order: pass --label-config or --buckets")
    unknown = [c for c in columns if c not in buckets]
    if unknown:
        raise RowError("value.ranker", f"bucket(s) {unknown} are not in the bucket order {list(buckets)}")
    groups = [_positions(ranker[b], item_ids, f"value.ranker.{b}") for b in buckets if ranker.get(b)]
    return ordered_ranks(groups, len(item_ids))


def _positions(ids: object, item_ids: list[str], field: str) -> list[int]:
    if not isinstance(ids, list):
        raise RowError(field, "must be a list of item ids")
    missing = [i for i in ids if str(i) not in item_ids]
    if missing:
        raise RowError(field, f"item id(s) {missing} are not in the task's items {item_ids}")
    return [item_ids.index(str(i)) for i in ids]


# --------------------------------------------------------------------------- writer

LS_RANKER, LS_LIST = "rank", "answers"


def label_studio_task(record: dict) -> dict:
    """One Label Studio task of a ``<List name="answers" value="$items">`` + ``<Ranker name="rank">``
    project (docs/exchange.md has the labeling config): the responses as items ``r0, r1, ...``
    and the consensus as a prediction, one bucket per tier (``tier-1`` best) and unranked items
    in ``"_"``. ``data.external_id`` brings the prompt back to this project on re-import."""
    items = [{"id": f"r{i}", "title": f"Response {i + 1}", "body": text} for i, text in enumerate(record["responses"])]
    task = {"data": {"prompt": record["prompt"], "items": items, "external_id": record["id"], "split": record["split"]}}
    if record["rankings"] is not None:
        buckets: dict[str, list[str]] = {}
        for tier, position in sorted((r, i) for i, r in enumerate(record["rankings"]) if r is not None):
            buckets.setdefault(f"tier-{tier + 1}", []).append(f"r{position}")
        unranked = [f"r{i}" for i, r in enumerate(record["rankings"]) if r is None]
        value = {"ranker": {**buckets, **({"_": unranked} if unranked else {})}}
        result = {"from_name": LS_RANKER, "to_name": LS_LIST, "type": "ranker", "value": value}
        task["predictions"] = [{"model_version": "grpo-studio-consensus", "result": [result]}]
    return task


def write(records: list[dict], path: Path) -> dict:
    """The export's records as Label Studio tasks (a JSON array)."""
    tasks = [label_studio_task(record) for record in records]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_array(tasks, out)
    return {"tasks": len(tasks), "predictions": sum("predictions" in task for task in tasks)}
