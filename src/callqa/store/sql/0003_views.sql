-- Views for QA leads and coaches (documented with example queries in docs/sql.md).
--
-- "day" is the call's date: started_at from the sidecar, else when callqa
-- processed it, as a DATE in the session's TimeZone (DuckDB's default is the
-- machine's local zone; `SET TimeZone = 'Europe/Warsaw'` to pick another).
-- Scores are 0-100. Every view reads only redacted text and masked findings.

-- The newest evaluation of each call (re-scoring appends; this is the one that counts),
-- with the call's people, queue and date.
CREATE VIEW latest_evaluations AS
SELECT
    e.call_id,
    CAST(coalesce(c.started_at, c.processed_at) AS DATE) AS day,
    c.started_at,
    c.source_name,
    c.agent_id,
    c.agent_name,
    c.team,
    c.queue,
    c.direction,
    c.language,
    c.duration_s,
    c.role_confidence,
    c.role_note,
    e.evaluation_id,
    e.pack_id,
    e.pack_version,
    e.score,
    e.max_score,
    e.passed,
    e.auto_failed,
    e.sections,
    e.created_at AS evaluated_at,
    e.engine_version
FROM evaluations e
JOIN calls c USING (call_id)
QUALIFY row_number() OVER (PARTITION BY e.call_id ORDER BY e.created_at DESC, e.evaluation_id DESC) = 1;

-- One row per call x rule of the latest evaluation; the first piece of evidence flattened.
CREATE VIEW rule_outcomes AS
SELECT
    le.call_id,
    le.day,
    le.started_at,
    le.source_name,
    le.agent_id,
    le.agent_name,
    le.team,
    le.queue,
    le.pack_id,
    le.evaluation_id,
    r.rule_index,
    r.rule_id,
    r.title AS rule_title,
    r.section,
    r.kind,
    r.outcome,
    r.points,
    r.max_points,
    r.critical,
    r.explanation,
    r.evidence[1].start_s AS evidence_start_s,
    r.evidence[1].end_s AS evidence_end_s,
    r.evidence[1].role AS evidence_role,
    r.evidence[1].excerpt AS evidence_excerpt,
    r.evidence
FROM latest_evaluations le
JOIN rule_results r USING (evaluation_id);

-- Per-call figures shared by the agent views: latest evaluation, metrics, failed critical items.
CREATE VIEW _call_scores AS
SELECT
    le.*,
    m.agent_talk_ratio,
    m.longest_silence_s,
    m.silence_total_s,
    m.agent_interruptions,
    m.agent_wpm,
    coalesce(cf.critical_fails, 0) AS critical_fails
FROM latest_evaluations le
LEFT JOIN metrics m USING (call_id)
LEFT JOIN (
    SELECT evaluation_id, count(*) AS critical_fails
    FROM rule_results
    WHERE critical AND outcome = 'fail'
    GROUP BY evaluation_id
) cf USING (evaluation_id);

-- Each section's share (0-100) of each latest evaluation, for per-section means.
CREATE VIEW _call_sections AS
SELECT
    le.call_id,
    le.day,
    le.agent_id,
    s.section,
    100.0 * s.score / s.max_score AS section_score
FROM latest_evaluations le, unnest(le.sections) AS u(s)
WHERE s.max_score > 0;

-- One row per agent and day.
CREATE VIEW agent_daily AS
WITH per_agent AS (
    SELECT
        day,
        agent_id,
        max(agent_name) AS agent_name,
        max(team) AS team,
        count(*) AS calls,
        round(avg(score), 2) AS mean_score,
        min(score) AS lowest_score,
        max(score) AS best_score,
        count(*) FILTER (WHERE passed) AS passed_calls,
        round(100.0 * count(*) FILTER (WHERE passed) / count(*), 1) AS pass_rate_pct,
        count(*) FILTER (WHERE auto_failed) AS auto_fails,
        sum(critical_fails) AS critical_fails,
        round(avg(agent_talk_ratio), 3) AS mean_agent_talk_ratio,
        round(avg(longest_silence_s), 2) AS mean_dead_air_s,
        max(longest_silence_s) AS longest_dead_air_s,
        round(sum(silence_total_s), 1) AS total_silence_s,
        sum(agent_interruptions) AS agent_interruptions,
        round(sum(duration_s) / 60.0, 1) AS talk_minutes
    FROM _call_scores
    GROUP BY day, agent_id
), per_section AS (
    SELECT day, agent_id, map(list(section ORDER BY section), list(mean ORDER BY section)) AS section_means
    FROM (
        SELECT day, agent_id, section, round(avg(section_score), 1) AS mean
        FROM _call_sections
        GROUP BY day, agent_id, section
    )
    GROUP BY day, agent_id
)
SELECT a.*, s.section_means
FROM per_agent a
LEFT JOIN per_section s ON a.day = s.day AND a.agent_id IS NOT DISTINCT FROM s.agent_id;

-- One row per agent and ISO week (week = its Monday).
CREATE VIEW agent_weekly AS
WITH weekly AS (
    SELECT *, CAST(date_trunc('week', day) AS DATE) AS week FROM _call_scores
), per_agent AS (
    SELECT
        week,
        agent_id,
        max(agent_name) AS agent_name,
        max(team) AS team,
        count(*) AS calls,
        count(DISTINCT day) AS days_worked,
        round(avg(score), 2) AS mean_score,
        min(score) AS lowest_score,
        max(score) AS best_score,
        count(*) FILTER (WHERE passed) AS passed_calls,
        round(100.0 * count(*) FILTER (WHERE passed) / count(*), 1) AS pass_rate_pct,
        count(*) FILTER (WHERE auto_failed) AS auto_fails,
        sum(critical_fails) AS critical_fails,
        round(avg(agent_talk_ratio), 3) AS mean_agent_talk_ratio,
        round(avg(longest_silence_s), 2) AS mean_dead_air_s,
        max(longest_silence_s) AS longest_dead_air_s,
        round(sum(silence_total_s), 1) AS total_silence_s,
        sum(agent_interruptions) AS agent_interruptions,
        round(sum(duration_s) / 60.0, 1) AS talk_minutes
    FROM weekly
    GROUP BY week, agent_id
), per_section AS (
    SELECT week, agent_id, map(list(section ORDER BY section), list(mean ORDER BY section)) AS section_means
    FROM (
        SELECT CAST(date_trunc('week', day) AS DATE) AS week, agent_id, section, round(avg(section_score), 1) AS mean
        FROM _call_sections
        GROUP BY ALL
    )
    GROUP BY week, agent_id
)
SELECT a.*, s.section_means
FROM per_agent a
LEFT JOIN per_section s ON a.week = s.week AND a.agent_id IS NOT DISTINCT FROM s.agent_id;

-- What a team lead discusses with each agent, newest first:
--   priority 1: every failed critical item (the call auto-failed);
--   priority 2: the failed items of the agent's three lowest-scoring calls that did not pass.
CREATE VIEW coaching_queue AS
WITH lowest AS (
    SELECT call_id
    FROM latest_evaluations
    WHERE NOT passed AND NOT auto_failed
    QUALIFY row_number() OVER (PARTITION BY agent_id ORDER BY score, started_at DESC NULLS LAST, call_id) <= 3
)
SELECT
    CASE WHEN ro.critical THEN 1 ELSE 2 END AS priority,
    CASE WHEN ro.critical THEN 'critical item failed' ELSE 'low score' END AS reason,
    ro.day,
    ro.started_at,
    ro.agent_id,
    ro.agent_name,
    ro.team,
    ro.queue,
    ro.call_id,
    ro.source_name,
    le.score,
    ro.rule_id,
    ro.rule_title,
    ro.section,
    ro.explanation,
    ro.evidence_start_s,
    ro.evidence_end_s,
    ro.evidence_excerpt,
    ro.evidence
FROM rule_outcomes ro
JOIN latest_evaluations le USING (call_id)
WHERE ro.outcome = 'fail'
  AND (ro.critical OR ro.call_id IN (SELECT call_id FROM lowest))
ORDER BY ro.day DESC, ro.started_at DESC NULLS LAST, ro.agent_id, priority, ro.call_id, ro.rule_index;

-- The best passed calls of each day and team (rank 1 = the QA star of the day),
-- with what made them good: the rules they earned points on, and their conversation figures.
CREATE VIEW qa_stars AS
WITH ranked AS (
    SELECT
        cs.*,
        row_number() OVER (
            PARTITION BY cs.day, cs.team
            ORDER BY cs.score DESC, cs.longest_silence_s ASC NULLS LAST, cs.agent_interruptions ASC NULLS LAST,
                     cs.started_at NULLS LAST, cs.call_id
        ) AS rank
    FROM _call_scores cs
    WHERE cs.passed
)
SELECT
    r.day,
    r.team,
    r.rank,
    r.rank = 1 AS star_of_the_day,
    r.agent_id,
    r.agent_name,
    r.call_id,
    r.source_name,
    r.started_at,
    r.score,
    (SELECT list(rr.title ORDER BY rr.points DESC, rr.rule_index)
       FROM rule_results rr
      WHERE rr.evaluation_id = r.evaluation_id AND rr.outcome = 'pass' AND rr.points > 0) AS strengths,
    r.agent_talk_ratio,
    r.longest_silence_s AS dead_air_s,
    r.agent_interruptions,
    r.agent_wpm
FROM ranked r
WHERE r.rank <= 3;

-- Sensitive-data findings, masked (at most the last 4 digits), with who said them and when.
CREATE VIEW pii_findings AS
SELECT
    p.call_id,
    CAST(coalesce(c.started_at, c.processed_at) AS DATE) AS day,
    c.started_at,
    c.source_name,
    c.agent_id,
    c.agent_name,
    c.team,
    c.queue,
    p.span_index AS finding_index,
    p.entity,
    p.detector,
    p.score AS confidence,
    p.role AS said_by,
    p.start_s,
    p.end_s,
    p.masked,
    p.explanation,
    p.tags
FROM pii_spans p
JOIN calls c USING (call_id);

-- Recordings whose latest attempt failed and that no later run has processed yet.
CREATE VIEW open_failures AS
SELECT path, call_id, stage, error_type, reason, transient, attempt, failed_at, run_id
FROM failures
WHERE resolved_at IS NULL
QUALIFY row_number() OVER (PARTITION BY path ORDER BY failed_at DESC, attempt DESC) = 1;
