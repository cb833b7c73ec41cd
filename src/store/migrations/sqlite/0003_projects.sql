-- 0003_projects: teams and memberships, invitations, projects with their
-- pages, code files, assets, comments, shares, templates, library
-- components, AI content records, the per-project audit log and the
-- Idempotency-Key memory. Times are Unix microseconds; ids are UUIDv7 text.
-- JSON documents are stored as text, byte for byte as written, so both
-- drivers give back the same bytes (and the same ETags).

-- Whether a session proved a second factor (TOTP or recovery code): teams
-- may require it for admin actions.
ALTER TABLE user_sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;

CREATE TABLE teams (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}', -- {mfa_required_for_admin, ip_allowlist}
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE team_members (
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'guest')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_invites (
    id          TEXT NOT NULL PRIMARY KEY,
    team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT
) WITHOUT ROWID;
CREATE INDEX team_invites_team ON team_invites (team_id);

CREATE TABLE projects (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    TEXT NOT NULL REFERENCES users (id),
    team_id     TEXT REFERENCES teams (id) ON DELETE CASCADE,
    visibility  TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'team', 'public')),
    template    TEXT,                          -- {id, version, customizations} or NULL
    settings    TEXT NOT NULL DEFAULT '{}',    -- {seo, performance, security}
    deployment  TEXT NOT NULL DEFAULT '{}',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX projects_team ON projects (team_id, id);
CREATE INDEX projects_owner ON projects (owner_id, id);
CREATE INDEX projects_visibility ON projects (visibility, id);

-- Full-text search over name and description, kept in step by the service
-- in the same transaction as the project row.
CREATE VIRTUAL TABLE projects_fts USING fts5 (id UNINDEXED, name, description);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'guest')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members (user_id);

-- Items shared with a guest: kind 'page' or 'file', item the page id or path.
CREATE TABLE project_shares (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('page', 'file')),
    item       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id, kind, item)
) WITHOUT ROWID;

CREATE TABLE pages (
    id         TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    path       TEXT NOT NULL,
    components TEXT NOT NULL DEFAULT '[]',
    metadata   TEXT NOT NULL DEFAULT '{}',
    published  INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, path)
) WITHOUT ROWID;

CREATE TABLE files (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    content    BLOB NOT NULL,
    language   TEXT NOT NULL,
    size       INTEGER NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, path)
) WITHOUT ROWID;

CREATE TABLE assets (
    id         TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha256     TEXT NOT NULL,
    type       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    filename   TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX assets_project ON assets (project_id, id);

CREATE TABLE comments (
    id          TEXT NOT NULL PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    page_id     TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    element_id  TEXT NOT NULL,
    position    TEXT NOT NULL DEFAULT '{}',
    parent_id   TEXT REFERENCES comments (id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    mentions    TEXT NOT NULL DEFAULT '[]',
    resolved_at INTEGER,
    resolved_by TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX comments_project ON comments (project_id, id);

CREATE TABLE templates (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    team_id     TEXT REFERENCES teams (id) ON DELETE CASCADE, -- NULL: the creator's own
    created_by  TEXT NOT NULL,
    pages       TEXT NOT NULL,   -- [{name, path, components, metadata}]
    files       TEXT NOT NULL,   -- [{path, content, language}]
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE library_components (
    id         TEXT NOT NULL PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (team_id, name)
) WITHOUT ROWID;

CREATE TABLE ai_content (
    id         TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    prompt     TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ai_content_project ON ai_content (project_id, id);

CREATE TABLE audit_log (
    id         TEXT NOT NULL PRIMARY KEY,
    project_id TEXT NOT NULL,  -- kept after the project is deleted
    actor_id   TEXT,
    session_id TEXT,
    ip         TEXT,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_log_project ON audit_log (project_id, id);

-- POST answers remembered by (user, Idempotency-Key) for 24 h.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,  -- method, path and body: a reused key with another request is 422
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, idem_key)
) WITHOUT ROWID;
