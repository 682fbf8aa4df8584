"""One stored call as a plain dict: the ``callqa show --format json`` document.

Everything here is read from the (redacted) database; nothing raw can appear.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from callqa.store import load_transcript, resolve_call_id, rows_as_dicts


def call_view(con: duckdb.DuckDBPyConnection, ref: str, db: str | Path) -> dict[str, Any]:
    call_id = resolve_call_id(con, ref, db)
    tr = load_transcript(con, call_id)
    (call,) = rows_as_dicts(con.execute(
        "SELECT source_path, source_name, duration_s, language, channels, asr_model, diarizer, role_method, "
        "role_confidence, role_note, agent_id, agent_name, queue, team, direction, started_at, processed_at "
        "FROM calls WHERE call_id = ?", [call_id]))
    view: dict[str, Any] = {
        "call_id": call_id,
        "source": call["source_name"],
        "source_path": call["source_path"],
        "duration_s": call["duration_s"],
        "language": call["language"],
        "channels": call["channels"],
        "asr_model": call["asr_model"],
        "diarizer": call["diarizer"],
        "roles": {"method": call["role_method"], "confidence": call["role_confidence"], "note": call["role_note"]},
        "metadata": {k: call[k] for k in ("agent_id", "agent_name", "queue", "team", "direction", "started_at")},
        "processed_at": call["processed_at"],
        "turns": [
            {
                "index": t.index, "speaker": t.speaker, "role": t.role.value, "channel": t.channel,
                "start": t.span.start, "end": t.span.end, "text": t.text,
                "words": [{"text": w.text, "start": w.start, "end": w.end, "probability": w.probability} for w in t.words],
            }
            for t in tr.turns
        ],
    }
    view.update(_scoring_view(con, call_id))
    return view


def _scoring_view(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    evs = rows_as_dicts(con.execute(
        "SELECT evaluation_id, pack_id, pack_version, pack_sha256, engine_version, created_at, score, max_score, "
        "passed, auto_failed, sections FROM evaluations WHERE call_id = ? ORDER BY created_at DESC LIMIT 1", [call_id]))
    if evs:
        ev = evs[0]
        results = rows_as_dicts(con.execute(
            "SELECT rule_id, title, section, kind, outcome, points, max_points, critical, explanation, evidence "
            "FROM rule_results WHERE evaluation_id = ? ORDER BY rule_index", [ev["evaluation_id"]]))
        out["evaluation"] = {
            "evaluation_id": ev["evaluation_id"], "pack": ev["pack_id"], "pack_version": ev["pack_version"],
            "pack_sha256": ev["pack_sha256"], "engine_version": ev["engine_version"], "created_at": ev["created_at"],
            "score": ev["score"], "max_score": ev["max_score"], "passed": ev["passed"], "auto_failed": ev["auto_failed"],
            "sections": ev["sections"],
            "results": [
                {
                    "rule_id": r["rule_id"], "title": r["title"], "section": r["section"], "kind": r["kind"],
                    "outcome": r["outcome"], "points": r["points"], "max_points": r["max_points"],
                    "critical": r["critical"], "explanation": r["explanation"],
                    "evidence": [
                        {"start": e["start_s"], "end": e["end_s"], "role": e["role"], "excerpt": e["excerpt"],
                         "turn_index": e["turn_index"]}
                        for e in (r["evidence"] or ())
                    ],
                }
                for r in results
            ],
        }
    metrics = rows_as_dicts(con.execute("SELECT * EXCLUDE (call_id) FROM metrics WHERE call_id = ?", [call_id]))
    if metrics:
        out["metrics"] = metrics[0]
    pii = rows_as_dicts(con.execute(
        "SELECT entity, detector, score, role, start_s, end_s, masked, explanation, tags FROM pii_spans "
        "WHERE call_id = ? ORDER BY span_index", [call_id]))
    if pii:
        out["pii"] = pii
    return out
