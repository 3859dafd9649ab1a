"""Imports from other tools: each file is written from that tool's documented export format and
carries ties, partial rankings, several annotators and a bad record; the stored tiers are checked."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ranking_app.exchange.formats import ImportOptions, sniff
from ranking_app.exchange.imports import import_file
from ranking_app.exchange.jsonl import ExchangeError
from ranking_app.models import Prompt, Ranking

from .conftest import db_state, write_jsonl

pytestmark = pytest.mark.django_db

LS_CONFIG = """<View>
  <Text name="prompt" value="$prompt"/>
  <List name="answers" value="$items" title="Answers"/>
  <Ranker name="rank" toName="answers">
    <Bucket name="best" title="Best"/>
    <Bucket name="ok" title="OK"/>
    <Bucket name="wrong" title="Wrong"/>
  </Ranker>
</View>"""


def stored(prompt_text: str) -> dict[str, list]:
    prompt = Prompt.objects.get(text=prompt_text)
    return {r.annotator.username: r.tiers for r in Ranking.objects.filter(prompt=prompt).select_related("annotator")}


def import_rows(tmp_path, rows, **kwargs):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return import_file(file=path, slug="foreign", create=True, **kwargs)


def import_errors(tmp_path, rows, **kwargs) -> list[str]:
    before = db_state()
    with pytest.raises(ExchangeError) as caught:
        import_rows(tmp_path, rows, **kwargs)
    assert db_state() == before
    return caught.value.errors


# --------------------------------------------------------------------------- Label Studio


def ls_items(n=4):
    return [{"id": f"llm_{i}", "title": f"LLM {i}", "body": f"Answer {i}"} for i in range(n)]


def ls_task(task_id, prompt, annotations):
    return {"id": task_id, "data": {"prompt": prompt, "items": ls_items()}, "annotations": annotations}


def ls_annotation(user, ranker, cancelled=False):
    result = [{"from_name": "rank", "to_name": "answers", "type": "ranker", "value": {"ranker": ranker}}]
    return {"id": 1, "completed_by": user, "was_cancelled": cancelled, "result": result}


def test_label_studio_ranker_buckets_tie_order_by_config_and_leave_unranked_items(tmp_path):
    buckets = {"best": ["llm_2"], "ok": ["llm_0", "llm_3"], "_": ["llm_1"]}
    strict = {"rank": ["llm_3", "llm_0", "llm_1", "llm_2"]}
    tasks = [
        ls_task(1, "Bucketed?", [ls_annotation(7, buckets), ls_annotation({"id": 8, "email": "ann@example.com"}, {"wrong": ["llm_0"], "best": ["llm_1"]})]),
        ls_task(2, "Strict?", [ls_annotation(7, strict), ls_annotation(9, ["llm_0", "llm_1", "llm_2", "llm_3"], cancelled=True)]),
        ls_task(3, "Bare list?", [ls_annotation(7, ["llm_1", "llm_0", "llm_2", "llm_3"])]),
    ]

    report = import_rows(tmp_path, tasks, options=ImportOptions(label_config=LS_CONFIG))

    assert report.created == 3
    assert stored("Bucketed?") == {"ls-7": [[2], [0, 3]], "ann@example.com": [[1], [0]]}
    assert stored("Strict?") == {"ls-7": [[3], [0], [1], [2]]}  # the cancelled annotation is skipped
    assert stored("Bare list?") == {"ls-7": [[1], [0], [2], [3]]}
    assert Prompt.objects.get(text="Strict?").external_id == "ls-2"


def test_label_studio_buckets_by_name_and_errors_for_unknown_order_ids_and_buckets(tmp_path):
    good = ls_task(1, "Q?", [ls_annotation(1, {"ok": ["llm_0"], "best": ["llm_1", "llm_2"]})])
    import_rows(tmp_path, [good], format="label-studio", options=ImportOptions(buckets=("best", "ok")))
    assert stored("Q?") == {"ls-1": [[1, 2], [0]]}

    bad = [
        ls_task(5, "No order?", [ls_annotation(1, {"ok": ["llm_0"], "best": ["llm_1"]})]),
        ls_task(6, "Bad id?", [ls_annotation(1, {"rank": ["llm_9"]})]),
    ]
    errors = import_errors(tmp_path, bad, format="label-studio")
    assert errors[0] == "record 1 (id 5): value.ranker: buckets ['ok', 'best'] have no known order: pass --label-config or --buckets"
    assert errors[1].startswith("record 2 (id 6): value.ranker: item id(s) ['llm_9'] are not in the task's items")
    errors = import_errors(tmp_path, bad[:1], options=ImportOptions(buckets=("best",)))
    assert errors == ["record 1 (id 5): value.ranker: bucket(s) ['ok'] are not in the bucket order ['best']"]


def test_label_studio_pairwise_imports_two_response_rankings(tmp_path):
    config = '<View><Pairwise name="pw" toName="text1,text2"/><Text name="text1" value="$a"/><Text name="text2" value="$b"/></View>'

    def task(task_id, selected):
        result = [{"from_name": "pw", "to_name": "text1,text2", "type": "pairwise", "value": {"selected": selected}}]
        return {"id": task_id, "data": {"prompt": f"P{task_id}?", "a": "left text", "b": "right text"},
                "annotations": [{"completed_by": 1, "result": result}, {"completed_by": 2, "result": result}]}

    import_rows(tmp_path, [task(1, "left"), task(2, "right")], options=ImportOptions(label_config=config))

    assert stored("P1?") == {"ls-1": [[0], [1]], "ls-2": [[0], [1]]}
    assert stored("P2?") == {"ls-1": [[1], [0]], "ls-2": [[1], [0]]}
    errors = import_errors(tmp_path, [task(3, "middle")], options=ImportOptions(label_config=config))
    assert errors == ["record 1 (id 3): value.selected: must be \"left\" or \"right\" (got 'middle')"]


# --------------------------------------------------------------------------- Argilla


def argilla_server(record_id, user_ranks, status="submitted"):
    responses = [
        {"user_id": user, "status": status, "values": {"ranking": {"value": [{"value": k, "rank": r} for k, r in ranks.items()]}}}
        for user, ranks in user_ranks.items()
    ]
    fields = {"prompt": f"Argilla {record_id}?", "response-1": "one", "response-2": "two", "response-3": "three"}
    return {"id": record_id, "fields": fields, "responses": responses, "metadata": {}}


def test_argilla_server_records_keep_ties_partial_ranks_and_skip_drafts(tmp_path):
    records = [
        argilla_server("r1", {"alice": {"response-1": 2, "response-2": 1, "response-3": 2}, "bob": {"response-1": 1, "response-2": 2, "response-3": None}}),
        argilla_server("r2", {"carol": {"response-1": 1, "response-2": None, "response-3": 2}}, status="draft"),
    ]

    report = import_rows(tmp_path, records)

    assert report.created == 2
    assert stored("Argilla r1?") == {"alice": [[1], [0, 2]], "bob": [[0], [1]]}
    assert stored("Argilla r2?") == {}  # a draft is not a decision


def test_argilla_hub_rows_and_a_bad_option(tmp_path):
    def row(external_id, value, rank):
        return {"prompt": f"Hub {external_id}?", "response1": "a", "response2": "b", "response3": "c",
                "ranking": [{"user_id": "u-1", "value": {"rank": rank, "value": value}, "status": "submitted"},
                            {"user_id": "u-2", "value": {"rank": [1, 1], "value": ["response3", "response1"]}, "status": "submitted"}],
                "ranking-suggestion": None, "external_id": external_id, "metadata": "{}"}

    import_rows(tmp_path, [row("h1", ["response2", "response1", "response3"], [1, 2, 3])])
    assert stored("Hub h1?") == {"u-1": [[1], [0], [2]], "u-2": [[0, 2]]}

    errors = import_errors(tmp_path, [row("h2", ["response9", "response1"], [1, 2])], format="argilla")
    assert errors[0].startswith("record 1 (id h2): responses: ranking option(s) ['response9'] are not text fields")


def test_argilla_2_exports_without_ranks_are_refused_with_how_to_export_them(tmp_path):
    to_disk = {"id": "x", "fields": {"prompt": "p", "response-1": "a"}, "responses": {"ranking": [{"value": ["response-1"], "user_id": "u"}]}}
    to_hub = {"prompt": "p", "response-1": "a", "ranking.responses": [["response-1"]], "ranking.responses.users": ["u"]}

    for rows in ([to_disk], [to_hub]):
        errors = import_errors(tmp_path, rows)
        assert len(errors) == 1 and "drop the ranks (argilla#5712)" in errors[0] and "include=responses" in errors[0]


# --------------------------------------------------------------------------- UltraFeedback


def uf_completion(model, overall, fine, helpful):
    return {"model": model, "response": f"{model} says hi", "overall_score": overall, "fine-grained_score": fine,
            "annotations": {"helpfulness": {"Rating": helpful, "Rationale": "..."}, "honesty": {"Rating": "5", "Rationale": "..."}}}


def uf_row(instruction):
    return {"source": "evol_instruct", "instruction": instruction, "models": ["m1", "m2", "m3", "m4"],
            "completions": [uf_completion("m1", 7.0, 4.5, "4"), uf_completion("m2", 8.5, 3.0, "N/A"),
                            uf_completion("m3", 7.0, 4.75, "2"), uf_completion("m4", 3, 1.0, "4")]}


@pytest.mark.parametrize(
    ("score", "tiers"),
    [("overall", [[1], [0, 2], [3]]), ("fine-grained", [[2], [0], [1], [3]]), ("helpfulness", [[0, 3], [2]])],
)
def test_ultrafeedback_score_choice_ties_and_not_available_scores(tmp_path, score, tiers):
    import_rows(tmp_path, [uf_row("Say hi?")], options=ImportOptions(score=score))

    assert stored("Say hi?") == {"import": tiers}
    assert Prompt.objects.get(text="Say hi?").responses.get(position=1).source == "m2"


def test_ultrafeedback_bad_records_name_the_completion(tmp_path):
    row = uf_row("Q?")
    row["completions"][2]["overall_score"] = "high"
    errors = import_errors(tmp_path, [uf_row("Fine?"), row])
    assert errors == ["record 2: completions[2].overall_score: must be a number or \"N/A\" (got 'high')"]
    errors = import_errors(tmp_path, [uf_row("Q?")], options=ImportOptions(score="style"))
    assert errors[0].startswith("record 1: completions[0].annotations: no aspect 'style'")


# --------------------------------------------------------------------------- TRL


def test_trl_pairs_of_one_prompt_merge_into_layers(tmp_path):
    rows = [
        {"prompt": "Sky?", "chosen": "blue", "rejected": "green"},
        {"prompt": "Sky?", "chosen": "green", "rejected": "red"},
        {"prompt": "Sky?", "chosen": "blue", "rejected": "purple"},
        {"prompt": [{"role": "user", "content": "Grass?"}], "chosen": [{"role": "assistant", "content": "green"}],
         "rejected": [{"role": "assistant", "content": "pink"}]},
    ]

    import_rows(tmp_path, rows)

    prompt = Prompt.objects.get(text="Sky?")
    assert [r.text for r in prompt.responses.order_by("position")] == ["blue", "green", "red", "purple"]
    assert stored("Sky?") == {"import": [[0], [1, 3], [2]]}  # purple and green are both one below blue
    assert stored("Grass?") == {"import": [[0], [1]]}


def test_trl_implicit_conversational_prompt_and_a_cycle_is_a_bad_record(tmp_path):
    turn = [{"role": "user", "content": "Hi?"}]
    implicit = {"chosen": [*turn, {"role": "assistant", "content": "Hello!"}],
                "rejected": [*turn, {"role": "assistant", "content": "Go away."}]}
    import_rows(tmp_path, [implicit])
    assert stored("Hi?") == {"import": [[0], [1]]}

    cycle = [{"prompt": "C?", "chosen": "a", "rejected": "b"}, {"prompt": "C?", "chosen": "b", "rejected": "c"},
             {"prompt": "C?", "chosen": "c", "rejected": "a"}]
    errors = import_errors(tmp_path, cycle, format="trl")
    assert len(errors) == 1 and errors[0].startswith("record 1 (id sha256-")
    assert 'pairs: contradict each other, they form a cycle: responses[0] "a" > responses[1] "b" > responses[2] "c" > responses[0] "a" (rows 1, 2, 3)' in errors[0]


# --------------------------------------------------------------------------- OpenAssistant


def oasst_message(message_id, parent_id, role, text, rank=None, **extra):
    return {"message_id": message_id, "parent_id": parent_id, "user_id": "u", "text": text, "role": role,
            "lang": "en", "rank": rank, "deleted": False, "message_tree_id": "t1", "model_name": None, **extra}


def test_oasst_trees_give_one_record_per_ranked_prompter_message(tmp_path):
    rows = [
        oasst_message("m1", None, "prompter", "What is 2+2?"),
        oasst_message("a1", "m1", "assistant", "4", rank=0),
        oasst_message("a2", "m1", "assistant", "5", rank=1),
        oasst_message("a3", "m1", "assistant", "four", rank=None),  # unranked reply
        oasst_message("m2", "a1", "prompter", "And 3+3?"),
        oasst_message("b1", "m2", "assistant", "6", rank=1),
        oasst_message("b2", "m2", "assistant", "Six.", rank=0),
        oasst_message("b3", "m2", "assistant", "deleted", rank=2, deleted=True),
        oasst_message("m3", "b1", "prompter", "Thanks"),  # no replies: no record
    ]

    report = import_rows(tmp_path, rows)

    assert report.created == 2
    assert stored("What is 2+2?") == {"import": [[0], [1]]}
    follow_up = Prompt.objects.get(external_id="oasst-m2")
    assert follow_up.text == "**User:** What is 2+2?\n\n**Assistant:** 4\n\n**User:** And 3+3?"
    assert stored(follow_up.text) == {"import": [[1], [0]]}


def test_oasst_a_missing_parent_is_a_bad_record(tmp_path):
    rows = [oasst_message("m2", "gone", "prompter", "Q?"), oasst_message("b1", "m2", "assistant", "x", rank=0),
            oasst_message("b2", "m2", "assistant", "y", rank=1)]
    errors = import_errors(tmp_path, rows, format="oasst")
    assert errors == ["record 1 (id m2): parent_id: message gone of this conversation is not in the file"]


# --------------------------------------------------------------------------- sniffing and the command


def test_unknown_format_names_every_format_tried_and_why():
    with pytest.raises(ExchangeError) as caught:
        sniff([{"question": "q", "answers": ["a", "b"]}])
    message = caught.value.errors[0]
    for name in ("exchange", "label-studio", "argilla", "ultrafeedback", "trl", "oasst"):
        assert f"{name}: " in message
    assert "rows have no `chosen` and `rejected`" in message


def test_import_rankings_command_takes_format_buckets_and_score(tmp_path):
    path = write_jsonl(tmp_path / "uf.jsonl", [uf_row("Cmd?")])
    call_command("import_rankings", str(path), "--project", "cmd", "--create", "--format", "ultrafeedback", "--score", "fine-grained")
    assert stored("Cmd?") == {"import": [[2], [0], [1], [3]]}

    ls = write_jsonl(tmp_path / "ls.json", [ls_task(1, "LS?", [ls_annotation(1, {"ok": ["llm_0"], "best": ["llm_3"]})])])
    call_command("import_rankings", str(ls), "--project", "cmd", "--buckets", "best, ok")
    assert stored("LS?") == {"ls-1": [[3], [0]]}
    config = tmp_path / "config.xml"
    config.write_text(LS_CONFIG, encoding="utf-8")
    call_command("import_rankings", str(ls), "--project", "cmd", "--label-config", str(config))
    with pytest.raises(CommandError, match="not recognised"):
        call_command("import_rankings", str(write_jsonl(tmp_path / "x.jsonl", [{"q": 1}])), "--project", "cmd")


def test_ultrafeedback_prompt_with_one_scored_completion_is_imported_unranked(tmp_path):
    row = uf_row("One score?")
    for completion in row["completions"][1:]:
        completion["annotations"]["helpfulness"]["Rating"] = "N/A"

    import_rows(tmp_path, [row], options=ImportOptions(score="helpfulness"))

    assert Prompt.objects.get(text="One score?").responses.count() == 4 and stored("One score?") == {}


def test_prompts_waiting_for_responses_are_sniffed_as_the_exchange_format():
    from ranking_app.exchange.formats import sniff

    assert sniff([{"id": "q1", "prompt": "Ask me"}, {"prompt": "and me"}]) == "exchange"
