"""Row -> record conversions (the only place that knows both column names and records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optimizer.store.records import (
    CandidateRecord,
    EvaluationRecord,
    EvaluationRow,
    LLMCallRow,
    ProposalRecord,
    RunRecord,
)


def run_record(r: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        id=r["id"], name=r["name"], kind=r["kind"], status=r["status"], task=r["task"],
        seed=r["seed"], config=r["config_json"] or {}, config_hash=r["config_hash"],
        code_version=r["code_version"], generation=r["generation"],
        totals=r["totals_json"] or {}, rng_state=r["rng_state_json"], meta=r["meta_json"] or {},
        created_at=r["created_at"], updated_at=r["updated_at"], finished_at=r["finished_at"],
    )


def candidate_record(r: Mapping[str, Any], parent_ids: Sequence[str]) -> CandidateRecord:
    return CandidateRecord(
        id=r["id"], run_id=r["run_id"], content_hash=r["content_hash"], text=r["text"],
        mutation_prompt=r["mutation_prompt"], context=tuple(r["context_json"] or ()),
        generation=r["generation"], operator=r["operator"], state=r["state"],
        fitness=r["fitness"], dev_score=r["dev_score"], parent_ids=tuple(parent_ids),
        meta=r["meta_json"] or {}, created_at=r["created_at"],
    )


def proposal_record(r: Mapping[str, Any]) -> ProposalRecord:
    return ProposalRecord(
        id=r["id"], run_id=r["run_id"], generation=r["generation"], operator=r["operator"],
        parent_ids=tuple(r["parent_ids_json"] or ()),
        child_candidate_id=r["child_candidate_id"], mutation_prompt=r["mutation_prompt"],
        mutation_prompt_hash=r["mutation_prompt_hash"], raw_output=r["raw_output"],
        accepted=bool(r["accepted"]), reason=r["reason"], calls=r["calls"], tokens=r["tokens"],
        cost_usd=r["cost_usd"], parent_score=r["parent_score"], child_score=r["child_score"],
        minibatch=tuple(r["minibatch_json"] or ()), meta=r["meta_json"] or {},
        created_at=r["created_at"],
    )


def evaluation_params(row: EvaluationRow, now: float) -> dict[str, Any]:
    return {
        "run_id": row.run_id, "candidate_id": row.candidate_id, "example_id": row.example_id,
        "split": row.split, "repeat": row.repeat, "prediction": row.prediction,
        "label": row.label, "correct": row.correct, "score": row.score,
        "input_tokens": row.input_tokens, "output_tokens": row.output_tokens,
        "cost_usd": row.cost_usd, "latency_ms": row.latency_ms, "cached": row.cached,
        "error": row.error, "feedback": row.feedback,
        "meta_json": dict(row.meta) if row.meta is not None else None, "created_at": now,
    }


def evaluation_record(r: Mapping[str, Any]) -> EvaluationRecord:
    return EvaluationRecord(
        id=r["id"], run_id=r["run_id"], candidate_id=r["candidate_id"],
        example_id=r["example_id"], split=r["split"], repeat=r["repeat"],
        prediction=r["prediction"], label=r["label"],
        correct=None if r["correct"] is None else bool(r["correct"]), score=r["score"],
        input_tokens=r["input_tokens"], output_tokens=r["output_tokens"],
        cost_usd=r["cost_usd"], latency_ms=r["latency_ms"], cached=bool(r["cached"]),
        error=r["error"], feedback=r["feedback"], meta=r["meta_json"],
        created_at=r["created_at"],
    )


def llm_call_row(r: Mapping[str, Any]) -> LLMCallRow:
    return LLMCallRow(
        id=r["id"], request_hash=r["request_hash"], model=r["model"], role=r["role"],
        input_tokens=r["input_tokens"], output_tokens=r["output_tokens"],
        cost_usd=r["cost_usd"], latency_ms=r["latency_ms"], cached=bool(r["cached"]),
        error=r["error"], run_id=r["run_id"], candidate_id=r["candidate_id"],
        tags=r["tags_json"] or {}, created_at=r["created_at"],
    )
