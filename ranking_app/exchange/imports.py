"""Import of exchange records into a project: atomic, idempotent by record id, bulk.

Rules (docs/exchange.md has the user-facing version):

* A record is matched to an existing prompt of the project by ``id`` (``Prompt.external_id``;
  a record without one gets an id hashed from its prompt and responses, ``exchange.derived_id``).
  New ids create prompts; known ids update text, split, metadata and responses; nothing is ever
  deleted (rankings or prompts missing from the file stay as they are).
* A known prompt that already has any ranking keeps its responses: a record that changes the
  response texts or their number is rejected, because the stored rankings point at positions.
* Top-level ``rankings`` is saved as the ranking of user ``source``; each annotation as the
  ranking of its annotator. Missing users are created inactive, in the ``labeler`` group.
  Every ranking is stored as ``submitted`` with source ``import:<source>``, versioned and with a
  revision: a changed existing ranking through ``ranking_save``; first rankings (the bulk of a
  large import) as the same rows ``ranking_save`` writes (version 1 + revision 1), inserted in
  bulk so 10,000 prompts do not cost 5 queries per ranking. An identical stored ranking is left alone.
* A stored ranking that a person made or changed in the app (its source is ``ui`` or ``api``, not
  an import) is never replaced silently: a record that would change it is refused, naming the
  record and the annotator, unless the import is run with ``overwrite`` (``--overwrite``, the
  upload page's checkbox, the API's ``overwrite``), which replaces it and reports each such ranking.
  Either way the revision history keeps every version.
* Any bad record means nothing is written, and the error lists every bad record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Assignment, Project, Prompt, Ranking, RankingRevision, Response
from ..projects.services import project_create
from ..ranking import RankingError, RankingRules, ranks_to_tiers, validate_tiers
from ..ranking_store import RankingConflict, project_rules, ranking_save
from ..roles import LABELER
from .formats import ImportOptions, to_exchange
from .jsonl import (
    USERNAME_RE,
    ExchangeError,
    ExchangeRecord,
    ResponseDetail,
    clean_records,
    read_exchange_file,
    record_label,
)

CHUNK = 500  # ids per IN (...) query, well under SQLite's parameter limit
MAX_SOURCE_NAME = 43  # Ranking.source holds "import:<name>" in 50 characters


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rankings_saved: int = 0
    users_created: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)  # "<id> (<annotator>): version N (ui) replaced"

    def __str__(self) -> str:
        text = (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.rankings_saved} rankings saved"
        )
        if self.users_created:
            text += f"; new inactive users: {', '.join(self.users_created)}"
        if self.overwritten:
            text += f"; overwrote {len(self.overwritten)} ranking(s) people had changed: {'; '.join(self.overwritten)}"
        return text + ")"


@dataclass
class _Stored:
    """What the database holds for one known prompt."""

    prompt: Prompt
    responses: list[Response]
    rankings: dict[int, tuple[list, str, str]]  # annotator id -> (tiers, status, skip reason)
    by_people: dict[int, tuple[int, str]] = field(default_factory=dict)  # annotator id -> (version, source)
    versions: dict[int, int] = field(default_factory=dict)  # annotator id -> the version read


def rankings_import(
    *, project: Project, records: list[dict], source: str = "import", user=None, overwrite: bool = False
) -> ImportReport:
    """Import raw exchange records into ``project``; raise ``ExchangeError`` listing every bad record.

    The records are checked before the transaction opens, so the database write lock is held only
    for the (bulk) reads and writes.
    """
    _check_source(source)
    cleaned = clean_records(records, rules=project_rules(project), source=source)
    with transaction.atomic():
        return _import_cleaned(project, cleaned, source, user, overwrite)


def import_file(
    *,
    file,
    slug: str,
    create: bool = False,
    source: str = "import",
    allow_ties: bool = True,
    allow_partial: bool = True,
    target_annotators: int = 1,
    user=None,
    format: str = "auto",
    options: ImportOptions | None = None,
    overwrite: bool = False,
) -> ImportReport:
    """Read ``file`` (a path, or an open file such as an upload) and import it into project ``slug``:
    the one way a file comes in (the import page, the API's upload, ``manage.py import_rankings``).

    With ``create`` a missing project is made (named after the slug) with the given tie and
    partial-ranking rules and ``target_annotators`` (default 1: imported rankings are already
    made, so one ranking validates a prompt, and several must still agree); it is only kept if
    the whole import succeeds. ``format`` names the file's format (``formats.FORMATS``;
    ``auto`` sniffs it); a foreign format is turned into exchange records first.
    """
    records = to_exchange(read_exchange_file(file), format, options)
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        return rankings_import(project=project, records=records, source=source, user=user, overwrite=overwrite)
    if not create:
        raise ExchangeError([f"project: no project with slug {slug!r} (use --create to make it)"])
    _check_source(source)
    cleaned = clean_records(records, rules=RankingRules(allow_ties=allow_ties, allow_partial=allow_partial), source=source)
    with transaction.atomic():
        project = _project_create(
            slug=slug, allow_ties=allow_ties, allow_partial=allow_partial, target=target_annotators, user=user
        )
        return _import_cleaned(project, cleaned, source, user, overwrite)


def _import_cleaned(
    project: Project, cleaned: list[ExchangeRecord], source: str, user, overwrite: bool = False
) -> ImportReport:
    """The database part of an import (inside the caller's transaction)."""
    stored = _stored_prompts(project, [r.id for r in cleaned])
    conflicts = [problem for r in cleaned for problem in _response_conflicts(r, stored.get(r.id))]
    if conflicts:
        raise ExchangeError(conflicts)
    report = ImportReport()
    users = _users_by_name(_usernames(cleaned, source), report)
    report.overwritten = _people_changes(cleaned, stored, users, source)
    if report.overwritten and not overwrite:
        raise ExchangeError([f"{line}; nothing was imported{OVERWRITE_HINT}" for line in report.overwritten])
    changed = _write_prompts(project, cleaned, stored)
    new_rankings: list[Ranking] = []
    for record in cleaned:
        saved = _save_rankings(record, stored[record.id], users, source, user, new_rankings)
        report.rankings_saved += saved
        if record.id in changed.created:
            report.created += 1
        elif saved or record.id in changed.updated:
            report.updated += 1
        else:
            report.unchanged += 1
    _rankings_create(new_rankings, user)
    return report


def _project_create(*, slug: str, allow_ties: bool, allow_partial: bool, target: int, user) -> Project:
    try:
        return project_create(
            slug=slug, allow_ties=allow_ties, allow_partial=allow_partial, target_annotators=target, created_by=user
        )
    except ValidationError as error:
        raise ExchangeError(
            [f"project: {name}: {message}" for name, messages in error.message_dict.items() for message in messages]
        ) from None


def _check_source(source: str) -> None:
    if not isinstance(source, str) or not USERNAME_RE.match(source) or len(source) > MAX_SOURCE_NAME:
        raise ExchangeError(
            [f"source: {source!r} must be a username of at most {MAX_SOURCE_NAME} characters (letters, digits, @.+-_)"]
        )


# --------------------------------------------------------------------------- reads


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored_prompts(project: Project, external_ids: list[str]) -> dict[str, _Stored]:
    """Known prompts of ``project`` among ``external_ids``, with responses and rankings: 3 queries per chunk."""
    stored: dict[str, _Stored] = {}
    for chunk in _chunks(external_ids):
        prompts = {p.id: p for p in Prompt.objects.filter(project=project, external_id__in=chunk)}
        responses: dict[int, list[Response]] = {pid: [] for pid in prompts}
        rankings: dict[int, dict] = {pid: {} for pid in prompts}
        for response in Response.objects.filter(prompt_id__in=list(prompts)).order_by("prompt_id", "position"):
            responses[response.prompt_id].append(response)
        rows = Ranking.objects.filter(prompt_id__in=list(prompts)).values_list(
            "prompt_id", "annotator_id", "tiers", "status", "skip_reason", "version", "source"
        )
        by_people: dict[int, dict] = {pid: {} for pid in prompts}
        versions: dict[int, dict] = {pid: {} for pid in prompts}
        for prompt_id, annotator_id, tiers, status, skip_reason, version, ranking_source in rows:
            rankings[prompt_id][annotator_id] = (tiers, status, skip_reason)
            versions[prompt_id][annotator_id] = version
            if not ranking_source.startswith("import"):
                by_people[prompt_id][annotator_id] = (version, ranking_source)
        for pid, prompt in prompts.items():
            prompt.project = project
            stored[prompt.external_id] = _Stored(prompt, responses[pid], rankings[pid], by_people[pid], versions[pid])
    return stored


def _response_conflicts(record: ExchangeRecord, stored: _Stored | None) -> list[str]:
    if stored is None or not stored.rankings or not record.responses:
        return []
    if [r.text for r in stored.responses] == record.responses:
        return []
    return [
        f"{record_label(record.number, record.id)}: responses: differ from the stored responses of this prompt, "
        f"which already has {len(stored.rankings)} ranking(s) pointing at them; keep the responses "
        f"(same texts, same order) or import the changed prompt under a new id"
    ]


CHANGED_MEANWHILE = "their ranking changed while the import ran; nothing was imported, run it again"
OVERWRITE_HINT = (
    " (export the project again to get the current rankings, or import with overwrite "
    "(--overwrite, the upload page's checkbox, the API's \"overwrite\": true) to replace them)"
)


def _wanted(record: ExchangeRecord, source: str) -> list[tuple[str, list]]:
    """(username, ranks) of every ranking the record carries, the top-level one under ``source``."""
    wanted = list(record.annotations.items())
    if record.rankings is not None and source not in record.annotations:
        wanted.insert(0, (source, record.rankings))
    return wanted


def _people_changes(records: list[ExchangeRecord], stored: dict[str, _Stored], users: dict, source: str) -> list[str]:
    """One line per stored ranking made or changed by a person in the app that the import would replace."""
    lines = []
    for record in records:
        entry = stored.get(record.id)
        if entry is None or not entry.by_people:
            continue
        for username, ranks in _wanted(record, source):
            annotator_id = users[username].id
            if annotator_id not in entry.by_people or entry.rankings[annotator_id] == _submitted(record, ranks, entry):
                continue
            version, made_in = entry.by_people[annotator_id]
            lines.append(
                f"{record_label(record.number, record.id)}: annotator {username}: their ranking "
                f"(version {version}, saved in the app via {made_in}) differs from the file's"
            )
    return lines


def _submitted(record: ExchangeRecord, ranks: list, entry: _Stored) -> tuple | None:
    """The stored form of ``ranks`` as a submitted ranking (None if it breaks the rules: reported later)."""
    try:
        tiers = validate_tiers(ranks_to_tiers(ranks), len(record.responses), project_rules(entry.prompt.project), submitted=True)
    except RankingError:
        return None
    return (tiers, Ranking.Status.SUBMITTED, "")


def _usernames(records: list[ExchangeRecord], source: str) -> set[str]:
    names = {name for r in records for name in r.annotations}
    if any(r.rankings is not None for r in records):
        names.add(source)
    return names


# --------------------------------------------------------------------------- writes


def _users_by_name(names: set[str], report: ImportReport) -> dict[str, object]:
    """Existing users by username; the missing ones created inactive and put in group labeler."""
    User = get_user_model()
    users = {}
    for chunk in _chunks(sorted(names)):
        users.update({u.username: u for u in User.objects.filter(username__in=chunk)})
    missing = sorted(names - set(users))
    if missing:
        new = [User(username=name, is_active=False) for name in missing]
        for u in new:
            u.set_unusable_password()
        User.objects.bulk_create(new)
        created = list(User.objects.filter(username__in=missing))
        group, _ = Group.objects.get_or_create(name=LABELER)
        group.user_set.add(*created)
        users.update({u.username: u for u in created})
        report.users_created = missing
    return users


@dataclass
class _Changes:
    created: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)


def _write_prompts(project: Project, records: list[ExchangeRecord], stored: dict[str, _Stored]) -> _Changes:
    """Create new prompts and update changed ones with bulk queries; fills ``stored`` for new ones."""
    changes = _Changes()
    new = [r for r in records if r.id not in stored]
    prompts = Prompt.objects.bulk_create(
        [Prompt(project=project, external_id=r.id, text=r.prompt, split=r.split, metadata=r.metadata) for r in new],
        batch_size=CHUNK,
    )
    responses = []
    for record, prompt in zip(new, prompts, strict=True):
        prompt.project = project
        stored[record.id] = _Stored(prompt, _responses_for(prompt, record), {})
        responses.extend(stored[record.id].responses)
        changes.created.add(record.id)
    Response.objects.bulk_create(responses, batch_size=CHUNK)

    changed_prompts, changed_responses, replaced = [], [], []
    for record in records:
        if record.id in changes.created:
            continue
        entry = stored[record.id]
        changed = _update_prompt(entry.prompt, record)
        if changed:
            changed_prompts.append(entry.prompt)
        if record.responses and [r.text for r in entry.responses] != record.responses:
            replaced.append((entry, record))  # the prompt has no rankings (checked before): safe to replace
            changed = True
        elif record.responses:
            details = _update_details(entry.responses, record.details)
            changed_responses.extend(details)
            changed = changed or bool(details)
        if changed:
            changes.updated.add(record.id)
    Prompt.objects.bulk_update(changed_prompts, ["text", "split", "metadata", "updated_at"], batch_size=CHUNK)
    Response.objects.bulk_update(changed_responses, ["source", "metadata"], batch_size=CHUNK)
    _replace_responses(replaced)
    return changes


def _responses_for(prompt: Prompt, record: ExchangeRecord) -> list[Response]:
    return [
        Response(prompt=prompt, position=i, text=text, source=detail.source, metadata=detail.metadata)
        for i, (text, detail) in enumerate(zip(record.responses, record.details, strict=True))
    ]


def _update_prompt(prompt: Prompt, record: ExchangeRecord) -> bool:
    wanted = {"text": record.prompt, "split": record.split, "metadata": record.metadata}
    if all(getattr(prompt, name) == value for name, value in wanted.items()):
        return False
    for name, value in wanted.items():
        setattr(prompt, name, value)
    prompt.updated_at = timezone.now()  # bulk_update does not touch auto_now fields
    return True


def _update_details(responses: list[Response], details: list[ResponseDetail]) -> list[Response]:
    changed = []
    for response, detail in zip(responses, details, strict=True):
        if response.source != detail.source or response.metadata != detail.metadata:
            response.source, response.metadata = detail.source, detail.metadata
            changed.append(response)
    return changed


def _replace_responses(replaced: list[tuple[_Stored, ExchangeRecord]]) -> None:
    if not replaced:
        return
    _refuse_prompts_in_use([(entry, record) for entry, record in replaced if entry.responses])  # none yet: nothing to see
    for chunk in _chunks(replaced):
        Response.objects.filter(prompt_id__in=[entry.prompt.id for entry, _ in chunk]).delete()
    new = []
    for entry, record in replaced:
        entry.responses = _responses_for(entry.prompt, record)
        new.extend(entry.responses)
    Response.objects.bulk_create(new, batch_size=CHUNK)


IN_USE = ("responses: a labeler is ranking this prompt right now (it is open on their screen or a ranking was "
          "just saved), so its responses cannot change; nothing was imported (import again later, or the changed "
          "prompt under a new id)")


def _refuse_prompts_in_use(replaced: list[tuple[_Stored, ExchangeRecord]]) -> None:
    """Lock the prompts whose responses are about to be replaced and check again, under the lock, that
    none has a ranking (one saved since the import read them) or an open lease: a labeler's ranking
    must point at the responses they saw. Until the import commits, nobody can rank or claim them."""
    by_id = {entry.prompt.id: record for entry, record in replaced}
    in_use: set[int] = set()
    for chunk in _chunks(sorted(by_id)):
        list(Prompt.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
        in_use.update(Ranking.objects.filter(prompt_id__in=chunk).values_list("prompt_id", flat=True))
        leases = Assignment.objects.filter(prompt_id__in=chunk, expires_at__gt=timezone.now())
        in_use.update(leases.values_list("prompt_id", flat=True))
    if in_use:
        raise ExchangeError([f"{record_label(by_id[pk].number, by_id[pk].id)}: {IN_USE}" for pk in sorted(in_use)])


def _save_rankings(record: ExchangeRecord, entry: _Stored, users: dict, source: str, user, new: list) -> int:
    """Save the record's rankings that differ from the stored ones; return how many.

    A ranking the annotator already has goes through ``ranking_save`` (row lock, version bump,
    revision) at the version read: one changed meanwhile (a labeler's edit during the import) stops
    the import instead of being replaced. A first ranking is appended to ``new`` for
    ``_rankings_create``, which writes the same rows in bulk.
    """
    wanted = _wanted(record, source)
    n = len(record.responses)
    entry.prompt._response_count = n
    rules = project_rules(entry.prompt.project)
    saved = 0
    for username, ranks in wanted:
        annotator = users[username]
        try:  # checked before; kept so a rule change can never pass silently
            tiers = validate_tiers(ranks_to_tiers(ranks), n, rules, submitted=True)
            if entry.rankings.get(annotator.id) == (tiers, Ranking.Status.SUBMITTED, ""):
                continue
            if annotator.id not in entry.rankings:
                new.append(_new_ranking(entry.prompt, annotator, tiers, source, record.times.get(username, 0)))
            else:
                ranking_save(
                    prompt=entry.prompt,
                    annotator=annotator,
                    tiers=tiers,
                    status=Ranking.Status.SUBMITTED,
                    expected_version=entry.versions[annotator.id],
                    source=f"import:{source}",
                    changed_by=user,
                )
        except RankingConflict:
            raise ExchangeError([f"{record_label(record.number, record.id)}: annotator {username}: {CHANGED_MEANWHILE}"]) from None
        except RankingError as error:
            raise ExchangeError(
                [f"{record_label(record.number, record.id)}: rankings ({username}): {problem}" for problem in error.errors]
            ) from None
        saved += 1
    return saved


def _new_ranking(prompt: Prompt, annotator, tiers: list, source: str, time_spent_ms: int) -> Ranking:
    """The row ``ranking_save`` would create for a first submitted ranking (version 1)."""
    return Ranking(
        prompt=prompt,
        annotator=annotator,
        tiers=tiers,
        status=Ranking.Status.SUBMITTED,
        version=1,
        time_spent_ms=time_spent_ms,
        source=f"import:{source}",
        submitted_at=timezone.now(),
    )


def _rankings_create(rankings: list[Ranking], user) -> None:
    """Insert first rankings and their version-1 revisions in bulk (2 queries per 500 rankings)."""
    try:
        with transaction.atomic():
            Ranking.objects.bulk_create(rankings, batch_size=CHUNK)
    except IntegrityError:
        raise ExchangeError(
            ["rankings: someone saved a ranking of these prompts during the import; nothing was changed, run it again"]
        ) from None
    RankingRevision.objects.bulk_create(
        [
            RankingRevision(
                ranking=r,
                version=r.version,
                tiers=r.tiers,
                status=r.status,
                skip_reason="",
                changed_by=user or r.annotator,
                source=r.source,
            )
            for r in rankings
        ],
        batch_size=CHUNK,
    )
