-- Foundation: recordings, speaker-attributed transcripts, batch runs, failures.
-- Every text column that holds speech is redacted before it is written.

CREATE TABLE calls (
    call_id              VARCHAR PRIMARY KEY,   -- sha256 of the recording's bytes
    source_path          VARCHAR NOT NULL,      -- where it was read from (last seen)
    source_name          VARCHAR NOT NULL,
    size_bytes           BIGINT,
    container            VARCHAR,
    codec                VARCHAR,
    source_sample_rate   INTEGER,
    channels             INTEGER,              -- channels used for recognition (1 or 2)
    duration_s           DOUBLE,
    language             VARCHAR,
    language_probability DOUBLE,
    asr_model            VARCHAR,
    diarizer             VARCHAR,
    settings_key         VARCHAR,              -- what the transcript depends on; same key = skip
    role_method          VARCHAR,
    role_confidence      DOUBLE,
    role_note            VARCHAR,
    agent_id             VARCHAR,
    agent_name           VARCHAR,
    queue                VARCHAR,
    team                 VARCHAR,
    direction            VARCHAR,
    started_at           TIMESTAMPTZ,
    metadata             JSON,                 -- the sidecar's free-form 'extra'
    redacted_audio_path  VARCHAR,
    run_id               VARCHAR,
    processed_at         TIMESTAMPTZ NOT NULL,
    engine_version       VARCHAR NOT NULL
);

CREATE TABLE turns (
    call_id     VARCHAR NOT NULL,
    turn_index  INTEGER NOT NULL,
    speaker     VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,              -- agent | customer | unknown
    channel     INTEGER,
    start_s     DOUBLE NOT NULL,
    end_s       DOUBLE NOT NULL,
    text        VARCHAR NOT NULL,              -- redacted
    words       STRUCT(text VARCHAR, start_s DOUBLE, end_s DOUBLE, probability DOUBLE)[],
    PRIMARY KEY (call_id, turn_index)
);

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,          -- run | nightly | rescore
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,          -- running | completed | completed_with_failures | crashed
    settings        JSON,
    files_seen      INTEGER DEFAULT 0,
    calls_processed INTEGER DEFAULT 0,
    calls_skipped   INTEGER DEFAULT 0,
    calls_failed    INTEGER DEFAULT 0,
    engine_version  VARCHAR NOT NULL
);

CREATE TABLE failures (
    failure_id   VARCHAR PRIMARY KEY,
    run_id       VARCHAR,
    path         VARCHAR NOT NULL,
    call_id      VARCHAR,                      -- null when the file could not be read
    stage        VARCHAR NOT NULL,             -- decode | sidecar | asr | diarize | pii | score | store ...
    error_type   VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,             -- one line, no transcript text, no raw PII
    transient    BOOLEAN NOT NULL DEFAULT false,
    attempt      INTEGER NOT NULL DEFAULT 1,   -- how many times this file has failed so far
    failed_at    TIMESTAMPTZ NOT NULL,
    resolved_at  TIMESTAMPTZ                   -- set when a later run processes the file
);
