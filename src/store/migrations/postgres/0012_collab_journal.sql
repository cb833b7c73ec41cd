-- 0012_collab_journal: how far each loop's collaboration journal is folded
-- into collab_updates (src/collab/journal.c). A room appends every update
-- it accepts to its loop's journal file (<data>/collab-journal/
-- loop-<loop>-<gen>.log) before any client sees it; the writer folds the
-- records into collab_updates in large transactions and moves this row in
-- the same transaction, so after a crash the start-up replays exactly the
-- records past it. Files of a generation below the row's are folded whole.
CREATE TABLE collab_journal (
    loop   INTEGER PRIMARY KEY,
    gen    BIGINT NOT NULL CHECK (gen > 0),
    folded BIGINT NOT NULL CHECK (folded >= 0)
);
