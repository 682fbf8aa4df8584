-- Scoring: sensitive-data findings (masked), conversation metrics, evaluations.

CREATE TABLE pii_spans (
    call_id      VARCHAR NOT NULL,
    span_index   INTEGER NOT NULL,
    entity       VARCHAR NOT NULL,             -- CARD_NUMBER, CVV, IBAN, ...
    detector     VARCHAR NOT NULL,             -- versioned plug-in name
    score        DOUBLE NOT NULL,
    role         VARCHAR NOT NULL,
    start_s      DOUBLE NOT NULL,
    end_s        DOUBLE NOT NULL,
    masked       VARCHAR NOT NULL,             -- at most the last 4 digits
    explanation  VARCHAR NOT NULL,
    word_refs    STRUCT(turn_index INTEGER, word_index INTEGER)[],  -- the words carrying the value
    tags         VARCHAR[],
    PRIMARY KEY (call_id, span_index)
);

CREATE TABLE metrics (
    call_id                    VARCHAR PRIMARY KEY,
    duration_s                 DOUBLE,
    agent_talk_s               DOUBLE,
    customer_talk_s            DOUBLE,
    agent_talk_ratio           DOUBLE,
    customer_talk_ratio        DOUBLE,
    silence_total_s            DOUBLE,
    longest_silence_s          DOUBLE,          -- dead air
    silence_count              INTEGER,
    overlap_total_s            DOUBLE,
    overlap_count              INTEGER,
    agent_interruptions        INTEGER,
    customer_interruptions     INTEGER,
    agent_wpm                  DOUBLE,
    customer_wpm               DOUBLE,
    turns                      INTEGER,
    agent_turns                INTEGER,
    customer_turns             INTEGER,
    time_to_first_agent_word_s DOUBLE,
    min_silence_s              DOUBLE,
    silences  STRUCT(start_s DOUBLE, end_s DOUBLE, before_role VARCHAR, after_role VARCHAR)[],
    "overlaps" STRUCT(start_s DOUBLE, end_s DOUBLE, interrupter VARCHAR, interrupted VARCHAR)[]
);

CREATE TABLE evaluations (
    evaluation_id  VARCHAR PRIMARY KEY,
    call_id        VARCHAR NOT NULL,
    run_id         VARCHAR,
    pack_id        VARCHAR NOT NULL,
    pack_version   VARCHAR NOT NULL,
    pack_sha256    VARCHAR NOT NULL,
    engine_version VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    score          DOUBLE NOT NULL,
    max_score      DOUBLE NOT NULL,
    passed         BOOLEAN NOT NULL,
    auto_failed    BOOLEAN NOT NULL,
    sections       STRUCT(section VARCHAR, score DOUBLE, max_score DOUBLE)[]
);

CREATE TABLE rule_results (
    evaluation_id VARCHAR NOT NULL,
    call_id       VARCHAR NOT NULL,
    rule_index    INTEGER NOT NULL,
    rule_id       VARCHAR NOT NULL,
    title         VARCHAR,
    section       VARCHAR,
    kind          VARCHAR,
    outcome       VARCHAR NOT NULL,            -- pass | fail | na
    points        DOUBLE NOT NULL,
    max_points    DOUBLE NOT NULL,
    critical      BOOLEAN NOT NULL,
    explanation   VARCHAR NOT NULL,
    evidence      STRUCT(turn_index INTEGER, role VARCHAR, start_s DOUBLE, end_s DOUBLE,
                         char_start INTEGER, char_end INTEGER, excerpt VARCHAR)[],
    PRIMARY KEY (evaluation_id, rule_index)
);
