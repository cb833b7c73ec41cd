-- 0011_collab_layout: the two collab tables laid out for what is done to
-- them most: one append per busy document every millisecond or so, and a
-- compaction now and then. Measured with 20 documents taking 15,000 edits/s
-- in all (bench/collab), where both layouts of 0007 were the commit path's
-- main cost and its latency tail.
--
-- collab_docs was WITHOUT ROWID, so its rows (with the state, tens to
-- hundreds of KB) were the b-tree's keys. To compare keys on a row that
-- spills to overflow pages, SQLite reads the whole row into a buffer: every
-- append's lookup of through_seq copied whole states, several per lookup.
-- It is now a rowid table, found through its primary-key index (small
-- keys), with the blobs last so the columns read on every append sit in the
-- row's first page.
--
-- collab_updates was a rowid table, so its rows lay in arrival order and
-- the documents edited at once interleaved on every page: a compaction's
-- DELETE of one document's folded rows rewrote nearly every page of the
-- log's recent part (1,500 rows of one of 20 busy documents: about 1,200
-- pages, 5 MB of WAL, under the write lock every room's next commit waits
-- behind). It is now WITHOUT ROWID, stored in (project_id, doc, seq) order:
-- a document's rows are a few dozen neighbouring pages, and a commit
-- touches one leaf per document instead of a table page and an index page.
-- Its rows are single edits, small keys as WITHOUT ROWID wants them.
CREATE TABLE collab_docs_new (
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    doc          TEXT NOT NULL,
    through_seq  INTEGER NOT NULL CHECK (through_seq >= 0),
    updated_at   INTEGER NOT NULL,
    state_vector BLOB NOT NULL,
    state        BLOB NOT NULL,
    PRIMARY KEY (project_id, doc)
);
INSERT INTO collab_docs_new (project_id, doc, through_seq, updated_at, state_vector, state)
    SELECT project_id, doc, through_seq, updated_at, state_vector, state FROM collab_docs;
DROP TABLE collab_docs;
ALTER TABLE collab_docs_new RENAME TO collab_docs;
CREATE TABLE collab_updates_new (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    doc        TEXT NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, doc, seq)
) WITHOUT ROWID;
INSERT INTO collab_updates_new (project_id, doc, seq, data, created_at)
    SELECT project_id, doc, seq, data, created_at FROM collab_updates;
DROP TABLE collab_updates;
ALTER TABLE collab_updates_new RENAME TO collab_updates;
