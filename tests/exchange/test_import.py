"""rankings_import / import_file: happy path, every class of bad input, atomicity, idempotency."""

import pytest
from django.contrib.auth.models import User

from ranking_app.exchange.imports import import_file, rankings_import
from ranking_app.exchange.jsonl import ExchangeError
from ranking_app.models import Project, Prompt, Ranking, RankingRevision, Response
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user

from .conftest import db_state, record, write_jsonl

pytestmark = pytest.mark.django_db


def errors_of(project, records, **kwargs) -> list[str]:
    before = db_state()
    with pytest.raises(ExchangeError) as caught:
        rankings_import(project=project, records=records, **kwargs)
    assert db_state() == before, "a rejected import must change nothing"
    return caught.value.errors


@pytest.fixture
def empty_project(db):
    return Project.objects.create(name="Imp", slug="imp")


# --------------------------------------------------------------------------- happy path


def test_import_creates_prompts_responses_and_submitted_rankings_with_revisions(empty_project, admin_user):
    rec = record(
        "p-1",
        rankings=[1, 3, 3, None],
        annotations=[{"annotator": "alice", "rankings": [0, 1, 2, 3]}],
        split="test",
        metadata={"lang": "en", "nested": {"a": [1, 2]}},
    )
    report = rankings_import(project=empty_project, records=[rec], user=admin_user)
    assert (report.created, report.updated, report.unchanged, report.rankings_saved) == (1, 0, 0, 2)
    prompt = Prompt.objects.get(project=empty_project, external_id="p-1")
    assert prompt.text == rec["prompt"] and prompt.split == "test" and prompt.metadata == rec["metadata"]
    assert list(prompt.responses.values_list("text", flat=True)) == rec["responses"]
    by_name = {r.annotator.username: r for r in prompt.rankings.select_related("annotator")}
    assert by_name["import"].tiers == [[0], [1, 2]]  # [1, 3, 3, null] -> dense [0, 1, 1, null]
    assert by_name["alice"].tiers == [[0], [1], [2], [3]]
    for ranking in by_name.values():
        assert ranking.status == Ranking.Status.SUBMITTED and ranking.source == "import:import"
        assert ranking.version == 1
        revision = RankingRevision.objects.get(ranking=ranking)
        assert revision.changed_by == admin_user and revision.source == "import:import"
    for name in ("import", "alice"):
        user = User.objects.get(username=name)
        assert not user.is_active and not user.has_usable_password()
        assert user.groups.filter(name="labeler").exists()
    assert "new inactive users: alice, import" in str(report)


def test_source_names_the_user_of_top_level_rankings(empty_project):
    rankings_import(project=empty_project, records=[record("a")], source="seed-team")
    ranking = Ranking.objects.get()
    assert ranking.annotator.username == "seed-team" and ranking.source == "import:seed-team"


def test_existing_users_are_reused_and_left_active(empty_project, labeler):
    rankings_import(project=empty_project, records=[record("a", annotations=[{"annotator": "lab1", "rankings": [3, 2, 1, 0]}])])
    labeler.refresh_from_db()
    assert labeler.is_active
    assert Ranking.objects.get(annotator=labeler).tiers == [[3], [2], [1], [0]]


def test_missing_split_and_null_split_mean_unassigned(empty_project):
    rec_a, rec_b = record("a"), record("b", split=None)
    del rec_a["split"]
    rankings_import(project=empty_project, records=[rec_a, rec_b, record("c", split="unassigned")])
    assert set(Prompt.objects.values_list("split", flat=True)) == {"unassigned"}


def test_all_null_rankings_and_no_rankings_create_prompts_without_rankings(empty_project):
    rec = record("a")
    del rec["rankings"]
    report = rankings_import(project=empty_project, records=[rec, record("b", rankings=[None] * 4)])
    assert report.created == 2 and Ranking.objects.count() == 0


def test_response_details_keep_model_provenance(empty_project):
    details = [{"source": f"model-{i}", "metadata": {"temp": i}} for i in range(4)]
    rankings_import(project=empty_project, records=[record("a", response_details=details)])
    assert list(Response.objects.values_list("source", "metadata")) == [(f"model-{i}", {"temp": i}) for i in range(4)]


def test_ties_and_partial_allowed_by_default_on_create(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a", rankings=[0, 0, 1, None])])
    report = import_file(file=path, slug="new-one", create=True)
    project = Project.objects.get(slug="new-one")
    assert report.created == 1 and project.allow_ties and project.allow_partial


def test_unknown_project_without_create_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a")])
    with pytest.raises(ExchangeError, match="no project with slug 'ghost'"):
        import_file(file=path, slug="ghost")
    assert not Project.objects.exists()


def test_created_project_is_rolled_back_when_the_file_is_bad(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a", rankings=[0, 0, 1, 2])])
    with pytest.raises(ExchangeError, match="ties are not allowed"):
        import_file(file=path, slug="strict", create=True, allow_ties=False)
    assert not Project.objects.filter(slug="strict").exists()


# --------------------------------------------------------------------------- idempotency


def test_reimport_of_the_same_file_changes_nothing_and_counts_unchanged(empty_project):
    records = [record(f"p-{i}", annotations=[{"annotator": "bob", "rankings": [3, 2, 1, 0]}]) for i in range(5)]
    first = rankings_import(project=empty_project, records=records)
    state = db_state()
    again = rankings_import(project=empty_project, records=records)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert (again.created, again.updated, again.unchanged, again.rankings_saved) == (0, 0, 5, 0)
    assert db_state() == state


def test_reimport_counts_updates_and_keeps_revisions(empty_project):
    rankings_import(project=empty_project, records=[record("a"), record("b"), record("c")])
    changed = [
        record("a", rankings=[3, 2, 1, 0]),  # new ranking
        record("b", metadata={"v": 2}),  # new metadata
        record("c"),
        record("d"),
    ]
    report = rankings_import(project=empty_project, records=changed)
    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    ranking = Ranking.objects.get(prompt__external_id="a")
    assert ranking.version == 2 and ranking.tiers == [[3], [2], [1], [0]]
    assert list(ranking.revisions.values_list("version", flat=True)) == [1, 2]
    assert Prompt.objects.get(external_id="b").metadata == {"v": 2}


def test_reimport_with_overwrite_overrides_a_draft_but_its_revision_survives(empty_project):
    rankings_import(project=empty_project, records=[record("a", rankings=None)])
    prompt = Prompt.objects.get()
    alice = make_user("alice", "labeler")
    ranking_save(prompt=prompt, annotator=alice, tiers=[[1], [0]], status="draft")
    records = [record("a", rankings=None, annotations=[{"annotator": "alice", "rankings": [0, 1, 2, 3]}])]
    rankings_import(project=empty_project, records=records, overwrite=True)  # refused without (test_no_silent_overwrite)
    ranking = Ranking.objects.get(annotator=alice)
    assert ranking.status == "submitted" and ranking.version == 2
    assert ranking.revisions.first().tiers == [[1], [0]]


def test_responses_of_a_prompt_without_rankings_may_change(empty_project):
    rankings_import(project=empty_project, records=[record("a", rankings=None)])
    report = rankings_import(project=empty_project, records=[record("a", k=3, rankings=None)])
    assert report.updated == 1
    assert Response.objects.count() == 3


def test_changed_responses_of_a_ranked_prompt_are_rejected(empty_project):
    rankings_import(project=empty_project, records=[record("a"), record("b")])
    edited = record("a")
    edited["responses"][2] = "A different answer"
    errors = errors_of(empty_project, [edited, record("b", k=5), record("c")])
    assert len(errors) == 2
    assert errors[0].startswith("record 1 (id a): responses: differ from the stored responses")
    assert errors[1].startswith("record 2 (id b): responses:")


def test_reordered_responses_of_a_ranked_prompt_are_rejected(empty_project):
    rankings_import(project=empty_project, records=[record("a")])
    edited = record("a")
    edited["responses"].reverse()
    assert len(errors_of(empty_project, [edited])) == 1


# --------------------------------------------------------------------------- bad input, atomicity


def test_every_bad_record_is_listed_and_nothing_changes(project):
    records = [
        record("ok-1"),
        record("t1", rankings="first"),  # wrong type
        record("t2", rankings=[0, 1, 2]),  # length mismatch
        record("ok-1"),  # duplicate id
        record("t4", k=1, rankings=[0]),  # too few responses
        record("t5", split="dev"),
        record("t6", metadata=["x"]),
        {"prompt": "no id", "responses": "a"},
        "not an object",
        record("t9", annotations=[{"annotator": "bad name!", "rankings": [0, 1, 2, 3]}]),
    ]
    errors = errors_of(project, records)
    assert errors == [
        "record 2 (id t1): rankings: must be a list of integers or nulls (got str)",
        "record 3 (id t2): rankings: has 3 entries but there are 4 responses",
        "record 4 (id ok-1): id: duplicate of record 1 in this file",
        "record 5 (id t4): responses: has 1 responses; a prompt needs 2 to 100",
        'record 6 (id t5): split: must be "train", "validation", "test", "unassigned" or null (got "dev")',
        "record 7 (id t6): metadata: must be an object (got array)",
        "record 8: responses: must be an array of strings (got string)",
        "record 9: record: expected a JSON object (got string)",
        "record 10 (id t9): annotations[0].annotator: must be a username (letters, digits and @.+-_, at most 150 characters)",
    ]


def test_wrong_types_are_named_per_field(project):
    bad = {"id": ["x"], "prompt": 5, "responses": "a,b", "split": 1}
    errors = errors_of(project, [bad])
    assert "record 1: id: must be a string or an integer (got array)" in errors
    assert "record 1: prompt: must be a string (got number)" in errors
    assert "record 1: responses: must be an array of strings (got string)" in errors
    assert 'record 1: split: must be "train", "validation", "test", "unassigned" or null (got 1)' in errors


def test_non_integer_ranks_and_non_string_responses(project):
    errors = errors_of(project, [record("a", rankings=[0, 1.5, "2", True]), record("b", responses=["x", 3])])
    assert errors == [
        "record 1 (id a): rankings: entries must be integers or null (bad at index 1, 2, 3)",
        "record 2 (id b): responses[1]: must be a string (got number)",
    ]


def test_unknown_fields_are_rejected_so_typos_do_not_drop_data(project):
    errors = errors_of(project, [record("a", ranking=[0, 1, 2, 3])])
    assert errors[0].startswith("record 1 (id a): ranking: unknown field")


def test_ties_are_rejected_where_the_project_disallows_them(db):
    project = make_project("strict", n_prompts=0, allow_ties=False)
    errors = errors_of(
        project,
        [record("a", rankings=[0, 0, 1, 2]), record("b", annotations=[{"annotator": "al", "rankings": [1, 1, 0, 2]}])],
    )
    assert errors == [
        "record 1 (id a): rankings: ties are not allowed in this project",
        "record 2 (id b): annotations[0].rankings: ties are not allowed in this project",
    ]


def test_partial_rankings_are_rejected_where_the_project_disallows_them(db):
    project = make_project("full", n_prompts=0, allow_partial=False)
    assert errors_of(project, [record("a", rankings=[0, 1, None, 2])]) == [
        "record 1 (id a): rankings: every response must be ranked (partial rankings are not allowed in this project)"
    ]


def test_too_many_responses_and_oversize_text(project, settings):
    settings.IMPORT_MAX_RESPONSES = 5
    settings.IMPORT_MAX_TEXT_CHARS = 50
    errors = errors_of(project, [record("a", k=6), record("b", prompt="x" * 51), record("c", responses=["ok", "y" * 60])])
    assert errors == [
        "record 1 (id a): responses: has 6 responses; a prompt needs 2 to 5",
        "record 2 (id b): prompt: 51 characters, over the limit of 50 (GRPO_IMPORT_MAX_TEXT_CHARS)",
        "record 3 (id c): responses[1]: 60 characters, over the limit of 50 (GRPO_IMPORT_MAX_TEXT_CHARS)",
    ]


def test_annotations_must_be_well_formed(project):
    errors = errors_of(
        project,
        [
            record("a", annotations={"alice": [0, 1, 2, 3]}),
            record("b", annotations=[{"annotator": "al", "rankings": [0, 1, 2, 3]}, {"annotator": "al", "rankings": [0, 1, 2, 3]}]),
            record("c", annotations=[{"annotator": "al"}]),
            record("d", rankings=[0, 1, 2, 3], annotations=[{"annotator": "import", "rankings": [3, 2, 1, 0]}]),
        ],
    )
    assert errors[0].startswith("record 1 (id a): annotations: must be an array")
    assert errors[1] == "record 2 (id b): annotations[1].annotator: 'al' appears more than once in this record"
    assert errors[2] == "record 3 (id c): annotations[0].rankings: is required and must rank at least 2 responses"
    assert errors[3].startswith("record 4 (id d): annotations: annotator 'import' is also the import source")


def test_a_ranking_must_rank_at_least_two_responses(project):
    assert errors_of(project, [record("a", rankings=[0, None, None, None])]) == [
        "record 1 (id a): rankings: rank at least 2 responses"
    ]


def test_bad_source_name_is_rejected(project):
    assert errors_of(project, [record("a")], source="no spaces please")[0].startswith("source:")


def test_empty_record_list_is_an_error(project):
    assert errors_of(project, []) == ["file: contains no records"]


def test_a_file_with_one_bad_record_among_good_ones_changes_nothing(project, tmp_path):
    records = [record(f"new-{i}") for i in range(20)] + [record("bad", rankings=[0])]
    path = write_jsonl(tmp_path / "f.jsonl", records)
    before = db_state()
    with pytest.raises(ExchangeError) as caught:
        import_file(file=path, slug=project.slug)
    assert caught.value.errors == ["record 21 (id bad): rankings: has 1 entries but there are 4 responses"]
    assert db_state() == before


def test_import_cost_in_queries_does_not_grow_with_the_number_of_records(empty_project, django_assert_max_num_queries):
    """Bulk reads and writes: 300 prompts with 3 rankings each in a few dozen queries, not thousands."""
    records = [
        record(f"q-{i}", annotations=[{"annotator": "al", "rankings": [0, 1, 2, 3]}, {"annotator": "bo", "rankings": [1, 0, 2, 3]}])
        for i in range(300)
    ]
    # SQLite caps the variables of one statement, so bulk inserts go in batches (more columns, more
    # batches: ~11 for 900 rankings); the point is a few dozen queries, not one per record.
    with django_assert_max_num_queries(45):
        report = rankings_import(project=empty_project, records=records)
    assert report.created == 300 and report.rankings_saved == 900
    assert RankingRevision.objects.count() == 900
    assert set(Ranking.objects.values_list("version", "status")) == {(1, "submitted")}
    with django_assert_max_num_queries(20):
        assert rankings_import(project=empty_project, records=records).unchanged == 300


def test_an_exported_consensus_is_not_stored_as_a_ranking_of_its_own(db):
    """Records with `agreement` come from an export: their `rankings` is derived from the annotations."""
    project = make_project("strict2", n_prompts=0, allow_ties=False)
    exported = record(
        "a",
        rankings=[0, 0, 1, 2],  # a tied consensus would break this project's rules, but it is not stored
        annotations=[{"annotator": "al", "rankings": [0, 1, 2, 3]}],
        agreement={"kendall_w": None, "n_annotators": 1, "status": "validated"},
    )
    report = rankings_import(project=project, records=[exported])
    assert report.rankings_saved == 1
    assert list(Ranking.objects.values_list("annotator__username", flat=True)) == ["al"]
    assert errors_of(project, [record("b", rankings=[0, 0, 1, 2])]) == [
        "record 1 (id b): rankings: ties are not allowed in this project"
    ]


def test_bulk_created_rankings_match_what_ranking_save_writes(empty_project, admin_user):
    rankings_import(project=empty_project, records=[record("a", rankings=[1, 0, 2, None])], user=admin_user)
    bulk = Ranking.objects.get()
    prompt = Prompt.objects.get()
    other = make_user("ref")
    reference = ranking_save(
        prompt=prompt, annotator=other, tiers=[[1], [0], [2]], status="submitted", source="import:import", changed_by=admin_user
    )
    fields = ("tiers", "status", "skip_reason", "version", "source", "time_spent_ms")
    assert [getattr(bulk, f) for f in fields] == [getattr(reference, f) for f in fields]
    assert bulk.submitted_at is not None and bulk.created_at is not None
    revision_fields = ("version", "tiers", "status", "skip_reason", "changed_by_id", "source")
    assert list(bulk.revisions.values_list(*revision_fields)) == list(reference.revisions.values_list(*revision_fields))


def test_annotation_time_spent_is_stored_with_a_first_ranking_and_checked(empty_project):
    timed = [{"annotator": "alice", "rankings": [0, 1, 2, 3], "time_spent_ms": 42_000}]
    rankings_import(project=empty_project, records=[record("t-1", rankings=None, annotations=timed)])

    assert Ranking.objects.get(annotator__username="alice").time_spent_ms == 42_000
    bad = [{"annotator": "bob", "rankings": [0, 1, 2, 3], "time_spent_ms": -1}]
    errors = errors_of(empty_project, [record("t-2", rankings=None, annotations=bad)])
    assert errors == ["record 1 (id t-2): annotations[0].time_spent_ms: must be a whole number of milliseconds (0 to 2^31-1)"]
