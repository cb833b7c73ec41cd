-- 0010_locks: element locks (docs/collab.md, "Locks"). One row per locked
-- element of a project, held by one user until expires_at (Unix
-- microseconds); a row past its expiry is no lock and is replaced by the
-- next taker. element is the component id (or any client-chosen name).
CREATE TABLE element_locks (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    element    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT NOT NULL CHECK (type IN ('edit', 'view')),
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, element)
) WITHOUT ROWID;
CREATE INDEX element_locks_user ON element_locks (user_id, project_id);
