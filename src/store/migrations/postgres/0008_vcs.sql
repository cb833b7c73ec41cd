-- 0008_vcs.sql: git objects and refs of projects (src/vcs/). Objects are
-- keyed by (project, object id): identical content is stored once per
-- project, and a project never reads another's objects. Any node that
-- shares the database serves any project's repository.
CREATE TABLE vcs_objects (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    oid        TEXT NOT NULL,     -- 40 hex characters (SHA-1, git's object id)
    type       INTEGER NOT NULL,  -- libgit2's git_object_t: 1 commit, 2 tree, 3 blob, 4 tag
    data       bytea NOT NULL,     -- the object's content, without git's header
    PRIMARY KEY (project_id, oid)
);

CREATE TABLE vcs_refs (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,     -- refs/heads/<branch>, refs/tags/<tag>
    oid        TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);
