-- 0007_collab: collaborative documents (src/collab). A document's content
-- is its merged state (collab_docs.state, a Yjs v1 update holding
-- everything up to through_seq) followed by the updates logged after it
-- (collab_updates, seq > through_seq, in seq order). Every update a room
-- accepts is a row here before any other client sees it; compaction folds
-- the log into state and deletes the folded rows in one transaction, so a
-- reader always sees the same content. doc is the protocol's name
-- ("page:<id>", "code:<path>", ...). Times are Unix microseconds.
CREATE TABLE collab_docs (
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    doc          TEXT NOT NULL,
    state        BLOB NOT NULL,
    state_vector BLOB NOT NULL,
    through_seq  INTEGER NOT NULL CHECK (through_seq >= 0),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, doc)
) WITHOUT ROWID;
CREATE TABLE collab_updates (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    doc        TEXT NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, doc, seq)
);
