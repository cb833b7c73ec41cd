-- 0009_events: the per-project event log (src/history/): one row per
-- change, numbered 1, 2, 3 ... per project without gaps, written in the
-- same transaction as the change; and snapshots of the project's state
-- (LZ4 frames of its JSON) every N events, so that the state at any
-- sequence number is the nearest snapshot plus a short replay.
-- Kept after the project is deleted, like the audit log.

-- The last sequence number given to each project. Writers take the next
-- one with an upsert on this row, which serialises concurrent writers of
-- one project (SQLite: BEGIN IMMEDIATE already does; PostgreSQL: the row
-- lock) and rolls back with their transaction, so numbers have no gaps.
CREATE TABLE event_seqs (
    project_id text NOT NULL PRIMARY KEY,
    seq        bigint NOT NULL
);

CREATE TABLE events (
    project_id text NOT NULL,
    seq        bigint NOT NULL,
    type       text NOT NULL,    -- project_created, page_updated, ... (docs/history.md)
    target     text NOT NULL DEFAULT '',
    actor_id   text,
    session_id text,
    created_at bigint NOT NULL, -- Unix microseconds
    payload    text NOT NULL,    -- {"kind": ..., "key": ..., "value": ...}
    PRIMARY KEY (project_id, seq)
);
CREATE INDEX events_time ON events (project_id, created_at, seq);

CREATE TABLE event_snapshots (
    project_id text NOT NULL,
    seq        bigint NOT NULL,
    state      bytea NOT NULL,    -- LZ4 frame of the state JSON (docs/history.md)
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, seq)
);
