"""QA lead's views on a large database: agent_daily (and friends) over ~1,000,000 rule_results rows.

Builds a DuckDB file with the real schema (callqa's migrations, views
included) and synthetic, seeded content generated in SQL: N calls by 60
agents in 6 teams over 90 days, one evaluation each plus an older
re-scored one for every tenth call (so ``latest_evaluations`` has work to
do), 17 rule results per evaluation (the default pack's size) and metrics
per call. Then, on a fresh read-only connection as a QA lead would open the
published file, times each query (median of --repeats) and, as a ratio in
the same run, against the plain scan it cannot avoid: grouping every
rule_results row by evaluation.

Writes the "QA views" section of docs/BENCHMARKS.md.
Run: python -m bench.bench_views [--calls 60000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from bench.report import table, update_section

RULES = 17
QUERIES = {
    "agent_daily, every row": "SELECT * FROM agent_daily",
    "agent_daily, one agent, 30 days": "SELECT * FROM agent_daily WHERE agent_id = 'AG-1007' "
                                       "AND day >= DATE '2026-10-01' ORDER BY day",
    "agent_weekly, every row": "SELECT * FROM agent_weekly",
    "coaching_queue, one team, 7 days": "SELECT * FROM coaching_queue WHERE team = 'team-3' "
                                        "AND day >= DATE '2026-10-24'",
    "qa_stars, every row": "SELECT * FROM qa_stars",
    "rule_outcomes, fail rate per rule": "SELECT rule_id, avg((outcome = 'fail')::INT) FROM rule_outcomes GROUP BY 1",
}
BASELINE = "SELECT evaluation_id, count(*), sum(points) FROM rule_results GROUP BY evaluation_id"


def build(path: Path, calls: int) -> dict[str, int]:
    from callqa.store.migrations import migrate

    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        INSERT INTO calls (call_id, source_path, source_name, channels, duration_s, language, asr_model, diarizer,
                           role_method, role_confidence, agent_id, agent_name, queue, team, direction, started_at,
                           processed_at, engine_version)
        SELECT printf('%064x', i), '/inbox/' || i || '.wav', i || '.wav', 2, 120 + hash(i, 'd') % 600, 'en',
               'tiny.en', 'channels', 'channel_map', 1.0,
               printf('AG-%04d', 1000 + hash(i, 'a') % 60), 'Agent ' || (hash(i, 'a') % 60), 'cards',
               'team-' || (hash(i, 'a') % 60) % 6, 'inbound',
               TIMESTAMPTZ '2026-08-03 08:00:00+00' + INTERVAL (i % 90) DAY + INTERVAL (hash(i, 't') % 36000) SECOND,
               TIMESTAMPTZ '2026-11-01 02:00:00+00', 'bench'
        FROM range({calls}) t(i)
    """)
    con.execute("""
        INSERT INTO metrics (call_id, duration_s, agent_talk_ratio, longest_silence_s, silence_total_s,
                             agent_interruptions, agent_wpm)
        SELECT call_id, duration_s, 0.3 + (hash(call_id, 'r') % 50) / 100.0, (hash(call_id, 's') % 300) / 10.0,
               (hash(call_id, 'S') % 900) / 10.0, hash(call_id, 'i') % 4, 120 + hash(call_id, 'w') % 60
        FROM calls
    """)
    # one evaluation per call; every tenth call also has an older one (re-scored since)
    con.execute(f"""
        INSERT INTO evaluations
        SELECT printf('%032x', e), call_id, NULL, 'default', '1', 'sha', 'bench',
               TIMESTAMPTZ '2026-11-20 02:00:00+00' - INTERVAL (e // {calls}) DAY,
               0, 100, false, false, []
        FROM (SELECT call_id, i AS e FROM (SELECT call_id, row_number() OVER () - 1 AS i FROM calls)
              UNION ALL
              SELECT call_id, {calls} + i FROM (SELECT call_id, row_number() OVER () - 1 AS i FROM calls) WHERE i % 10 = 0)
    """)
    con.execute(f"""
        INSERT INTO rule_results
        SELECT e.evaluation_id, e.call_id, r, 'rule_' || r, 'Rule ' || r, 'section_' || (r % 4), 'phrase.v1',
               CASE WHEN hash(e.evaluation_id, r) % 20 = 0 THEN 'fail'
                    WHEN hash(e.evaluation_id, r) % 20 = 1 THEN 'na' ELSE 'pass' END,
               0, 0, r IN (14, 15), 'explained',
               [{{'turn_index': 1, 'role': 'agent', 'start_s': r * 3.0, 'end_s': r * 3.0 + 2,
                  'char_start': 0, 'char_end': 9, 'excerpt': 'excerpt'}}]
        FROM evaluations e, range({RULES}) t(r)
    """)
    con.execute("""
        UPDATE rule_results SET max_points = CASE WHEN outcome = 'na' THEN 0 ELSE 10 END,
                                points = CASE WHEN outcome = 'pass' THEN 10 ELSE 0 END
    """)
    # each evaluation's score, sections, passed and auto_failed follow from its results
    con.execute("""
        UPDATE evaluations SET score = s.score, passed = s.passed, auto_failed = s.auto_failed, sections = s.sections
        FROM (
            WITH tot AS (
                SELECT evaluation_id, sum(points) AS p, sum(max_points) AS mp,
                       bool_or(critical AND outcome = 'fail') AS cf
                FROM rule_results GROUP BY 1
            ), sec AS (
                SELECT evaluation_id,
                       list({'section': section, 'score': 25.0 * sp / nullif(smp, 0), 'max_score': 25.0}) AS sections
                FROM (SELECT evaluation_id, section, sum(points) AS sp, sum(max_points) AS smp
                      FROM rule_results GROUP BY ALL)
                GROUP BY 1
            )
            SELECT evaluation_id, CASE WHEN cf THEN 0 ELSE round(100.0 * p / mp, 2) END AS score,
                   NOT cf AND p >= 0.8 * mp AS passed, cf AS auto_failed, sections
            FROM tot JOIN sec USING (evaluation_id)
        ) s
        WHERE evaluations.evaluation_id = s.evaluation_id
    """)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("calls", "evaluations", "rule_results")}
    con.execute("CHECKPOINT")
    con.close()
    return counts


def timed(con: duckdb.DuckDBPyConnection, sql: str, repeats: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=60000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "views.duckdb"
        t0 = time.perf_counter()
        counts = build(db, args.calls)
        build_s = time.perf_counter() - t0
        con = duckdb.connect(str(db), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        base_s, _ = timed(con, BASELINE, args.repeats)
        rows = []
        for name, sql in QUERIES.items():
            secs, n = timed(con, sql, args.repeats)
            rows.append([name, n, round(secs, 3), round(secs / base_s, 2)])
        con.close()
    for r in rows:
        print(f"{r[0]:40s} {r[1]:8d} rows  {r[2]:.3f} s  {r[3]:.2f}x the rule_results scan")
    body = (
        f"Synthetic database built in SQL with the real schema: {counts['calls']:,} calls, "
        f"{counts['evaluations']:,} evaluations (every tenth call re-scored), "
        f"**{counts['rule_results']:,} `rule_results` rows**; built in {build_s:.0f} s. Each query runs on a "
        f"read-only connection to the file and fetches every row; median of {args.repeats}. The baseline is one "
        f"pass over `rule_results` grouped by evaluation ({base_s:.3f} s in this run).\n\n"
        + table(["query", "rows", "seconds", "× baseline scan"], rows)
        + "\n\nTarget: `agent_daily` over ~1,000,000 `rule_results` rows answers in under 1 s."
    )
    if not args.no_doc:
        update_section("bench_views", "QA views", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
