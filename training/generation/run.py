"""The worker side of a generation job (``JobRun`` calls ``generation_stages`` for kind "generate").

Each source (base model, or base + a finished job's adapter) samples its share of responses for
every prompt of the job's round. Samples are appended prompt by prompt to
``output/candidates-<source>.jsonl``, so a cancelled or killed run resumes where it stopped. When
every source is done, the candidates of each prompt are shuffled (seeded, per prompt) and stored
in one transaction through the importer, with each response's source and sampling metadata.

A sample that is empty (the model stopped at once, frequent with a small or random model) is
left out, and so is a prompt left with fewer than two responses: the result counts both, so one
empty sample never fails the whole job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from pathlib import Path

from django.conf import settings

from ranking_app.exchange.imports import rankings_import
from ranking_app.models import Prompt
from training.engine.generate import CandidateSampler, GenerationSettings, candidate_record

from ..models import TrainingJob
from ..services.adapters import adapter_path

logger = logging.getLogger("training.job")


def generation_stages(run) -> tuple[str, dict]:
    """Sample every source for every prompt of the round, then store the candidates."""
    job = run.job
    prompts = round_prompts(job)
    sources = job.config["sources"]
    total = len(prompts) * len(sources)
    for index, source in enumerate(sources):
        path = run.output_dir / f"candidates-{index}.jsonl"
        _sample_source(run, source_settings(job, index, source), prompts, path, done_before=index * len(prompts),
                       total=total)  # fmt: skip
    run.reporter.set_phase("storing candidates")
    merged = merged_records(job, prompts, [_read(run.output_dir / f"candidates-{i}.jsonl") for i in range(len(sources))])
    records, left_out = usable_records(merged)
    with run.reporter.db_lock:
        report = rankings_import(project=job.project, records=records) if records else None
    logger.info("stored %s responses for %s prompts of round %s (%s)", sum(len(r["responses"]) for r in records),
                len(records), job.round.number if job.round else "?", left_out)
    result = {"prompts": len(records), "updated": report.updated if report else 0, **left_out}
    return TrainingJob.Status.SUCCEEDED, {"result": result}


def usable_records(records: list[dict]) -> tuple[list[dict], dict]:
    """``records`` without empty responses, and without prompts left with fewer than two; what was left out."""
    kept, empty, short = [], 0, 0
    for record in records:
        pairs = [(t, d) for t, d in zip(record["responses"], record["response_details"], strict=True) if t.strip()]
        empty += len(record["responses"]) - len(pairs)
        if len(pairs) < settings.IMPORT_MIN_RESPONSES:
            short += 1
            continue
        kept.append({**record, "responses": [t for t, _ in pairs], "response_details": [d for _, d in pairs]})
    return kept, {"empty_responses_left_out": empty, "prompts_left_without_candidates": short}


def round_prompts(job: TrainingJob) -> list[dict]:
    """The prompts of the job's round that still wait for responses, as engine prompts."""
    rows = Prompt.objects.filter(round=job.round, responses__isnull=True).order_by("id")
    return [{"id": p.external_id, "prompt": p.text, "split": p.split, "metadata": p.metadata} for p in rows]


def source_settings(job: TrainingJob, index: int, source: dict):
    adapter = _adapter_path(source["adapter_job"]) if source.get("adapter_job") else None
    label = f"job {source['adapter_job']} adapter" if adapter else f"base model {Path(job.base_model).name}"
    config = job.config
    return GenerationSettings(
        model=job.base_model, adapter=adapter, num_responses=source["count"], temperature=config["temperature"],
        top_p=config["top_p"], max_new_tokens=config["max_new_tokens"], seed=config["seed"] + index,
        source=label, backend="transformers",
    )  # fmt: skip


def _adapter_path(job_id: int) -> str:
    return str(adapter_path(TrainingJob.objects.get(pk=job_id)))


def _sample_source(run, gen_settings, prompts: list[dict], path: Path, *, done_before: int, total: int) -> None:
    kept = _read(path)  # rewritten without a line a killed run may have cut short
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    done = {record["id"] for record in kept}
    todo = [p for p in prompts if p["id"] not in done]
    if not todo:
        return
    run.reporter.set_phase(f"sampling from the {gen_settings.source}")
    sampler = CandidateSampler(gen_settings)
    try:
        with path.open("a", encoding="utf-8") as out:
            for prompt in todo:
                run._check_cancel()
                record = candidate_record(prompt, sampler(prompt), gen_settings)
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                done.add(prompt["id"])
                run.reporter.progress(step=done_before + len(done), total=total)
    finally:
        sampler.close()


def merged_records(job: TrainingJob, prompts: list[dict], per_source: list[list[dict]]) -> list[dict]:
    """One exchange record per prompt with every source's responses, in a seeded shuffled order."""
    by_source = [{r["id"]: r for r in records} for records in per_source]
    records = []
    for prompt in prompts:
        pairs = [(text, detail) for source in by_source
                 for text, detail in zip(source[prompt["id"]]["responses"], source[prompt["id"]]["response_details"],
                                         strict=True)]  # fmt: skip
        random.Random(_shuffle_seed(job.config["seed"], prompt["id"])).shuffle(pairs)
        records.append({
            "id": prompt["id"], "prompt": prompt["prompt"], "split": prompt["split"], "metadata": prompt["metadata"],
            "responses": [text for text, _ in pairs], "response_details": [detail for _, detail in pairs],
        })  # fmt: skip
    return records


def _shuffle_seed(seed: int, prompt_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"shuffle:{seed}:{prompt_id}".encode()).digest()[:8], "big")


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a killed run may be cut short: sample it again
            break
    return records
