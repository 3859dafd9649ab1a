"""TRL preference pairs: ``{"prompt", "chosen", "rejected"}``, standard (strings) or conversational
(lists of ``{"role", "content"}`` messages; without ``prompt``, the messages ``chosen`` and
``rejected`` share before they differ are the prompt).

Pairs that share a prompt become one record: every distinct completion is a response, every
pair an edge "chosen above rejected", and the tiers are the topological layers of that graph
(``networkx.topological_generations``): a response sits one tier below the lowest tier of the
responses preferred to it. Responses no pair orders against each other may share a tier. A prompt
whose pairs form a cycle (a > b, b > a) is a bad record, and the error names the cycle. The
ranking is the file's one ranking per prompt (stored under the import's ``--source`` user).

The writer (``--format trl``) gives every consensus pair in the conversational format.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from ...real_data import render_conversation
from ..jsonl import ExchangeError, derived_id, write_json_lines
from .conversion import ImportOptions, RowError, convert_rows, ordered_ranks
from .pairs import pair_records

NAME = "trl"
ROLES = {"user": "prompter", "assistant": "assistant", "system": "System"}


def mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if "chosen" in first and "rejected" in first:
        return None
    return "rows have no `chosen` and `rejected`"


def convert(rows: list, options: ImportOptions) -> list[dict]:
    pairs = convert_rows(rows, _pair, lambda row: row.get("id"))
    groups: dict[str, list[dict]] = {}
    for number, pair in enumerate(pairs, start=1):
        groups.setdefault(pair["prompt"], []).append({**pair, "number": number})
    records, errors = [], []
    for prompt, group in groups.items():
        try:
            records.append(_record(prompt, group))
        except RowError as error:
            rows_at = ", ".join(str(p["number"]) for p in group)
            errors.append(f"record {group[0]['number']} (id {derived_id(prompt, _responses(group))}): {error} (rows {rows_at})")
    if errors:
        raise ExchangeError(errors)
    return records


def _pair(row: dict) -> dict:
    chosen, rejected, prompt = row.get("chosen"), row.get("rejected"), row.get("prompt")
    if isinstance(chosen, list) and isinstance(rejected, list):
        if prompt is None:
            shared = next((i for i, (a, b) in enumerate(zip(chosen, rejected, strict=False)) if a != b), 0)
            prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
        prompt = _conversation(prompt, "prompt") if isinstance(prompt, list) else prompt
        chosen, rejected = _conversation(chosen, "chosen"), _conversation(rejected, "rejected")
    for name, value in (("prompt", prompt), ("chosen", chosen), ("rejected", rejected)):
        if not isinstance(value, str) or not value.strip():
            raise RowError(name, "must be a non-empty string or list of {\"role\", \"content\"} messages")
    if chosen == rejected:
        raise RowError("rejected", "is the same text as chosen")
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def _conversation(messages: list, field: str) -> str:
    if not messages or not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages):
        raise RowError(field, "must be a list of {\"role\", \"content\"} messages")
    if len(messages) == 1:
        return messages[0]["content"]
    return render_conversation([{"role": ROLES.get(m.get("role"), m.get("role")), "text": m["content"]} for m in messages])


def _responses(group: list[dict]) -> list[str]:
    return list(dict.fromkeys(text for pair in group for text in (pair["chosen"], pair["rejected"])))


def _record(prompt: str, group: list[dict]) -> dict:
    responses = _responses(group)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(responses)))
    graph.add_edges_from((responses.index(p["chosen"]), responses.index(p["rejected"])) for p in group)
    try:
        layers = list(nx.topological_generations(graph))
    except nx.NetworkXUnfeasible:
        cycle = [edge[0] for edge in nx.find_cycle(graph)]
        names = " > ".join(f"responses[{i}] {_short(responses[i])}" for i in [*cycle, cycle[0]])
        raise RowError("pairs", f"contradict each other, they form a cycle: {names}") from None
    return {
        "prompt": prompt,
        "responses": responses,
        "rankings": ordered_ranks(layers, len(responses)),
        "metadata": {"dataset": "trl", "pairs": len(group)},
    }


def _short(text: str) -> str:
    return json.dumps(text if len(text) <= 40 else text[:37] + "...", ensure_ascii=False)


# --------------------------------------------------------------------------- writer

def trl_pair(pair: dict) -> dict:
    """A consensus pair in TRL's conversational preference format."""
    return {
        "prompt": [{"role": "user", "content": pair["prompt"]}],
        "chosen": [{"role": "assistant", "content": pair["chosen"]}],
        "rejected": [{"role": "assistant", "content": pair["rejected"]}],
    }


def write(records: list[dict], path: Path) -> dict:
    """Every consensus pair (``pairs.pair_records``) in TRL's conversational format, as JSON lines."""
    pairs = [trl_pair(pair) for record in records for pair in pair_records(record)]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_lines(pairs, out)
    return {"pairs": len(pairs)}
