-- 0010_locks: element locks (docs/collab.md, "Locks"). One row per locked
-- element of a project, held by one user until expires_at (Unix
-- microseconds); a row past its expiry is no lock and is replaced by the
-- next taker. element is the component id (or any client-chosen name).
CREATE TABLE element_locks (
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    element    text NOT NULL,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       text NOT NULL CHECK (type IN ('edit', 'view')),
    expires_at bigint NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, element)
);
CREATE INDEX element_locks_user ON element_locks (user_id, project_id);
