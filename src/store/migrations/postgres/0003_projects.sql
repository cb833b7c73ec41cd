-- 0003_projects: teams and memberships, invitations, projects with their
-- pages, code files, assets, comments, shares, templates, library
-- components, AI content records, the per-project audit log and the
-- Idempotency-Key memory. Times are Unix microseconds; ids are UUIDv7 text.
-- JSON documents are stored as text, byte for byte as written, so both
-- drivers give back the same bytes (and the same ETags).

-- Whether a session proved a second factor (TOTP or recovery code): teams
-- may require it for admin actions.
ALTER TABLE user_sessions ADD COLUMN mfa boolean NOT NULL DEFAULT false;

CREATE TABLE teams (
    id         text NOT NULL PRIMARY KEY,
    name       text NOT NULL,
    settings   text NOT NULL DEFAULT '{}', -- {mfa_required_for_admin, ip_allowlist}
    version    bigint NOT NULL DEFAULT 1,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE team_members (
    team_id    text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'guest')),
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_invites (
    id          text NOT NULL PRIMARY KEY,
    team_id     text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    invited_by  text NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    accepted_at bigint,
    accepted_by text
);
CREATE INDEX team_invites_team ON team_invites (team_id);

CREATE TABLE projects (
    id          text NOT NULL PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    owner_id    text NOT NULL REFERENCES users (id),
    team_id     text REFERENCES teams (id) ON DELETE CASCADE,
    visibility  text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'team', 'public')),
    template    text,                          -- {id, version, customizations} or NULL
    settings    text NOT NULL DEFAULT '{}',    -- {seo, performance, security}
    deployment  text NOT NULL DEFAULT '{}',
    version     bigint NOT NULL DEFAULT 1,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE INDEX projects_team ON projects (team_id, id);
CREATE INDEX projects_owner ON projects (owner_id, id);
CREATE INDEX projects_visibility ON projects (visibility, id);

-- Full-text search over name and description ('simple': no stemming, as
-- SQLite's unicode61 tokenizer).
ALTER TABLE projects ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description)) STORED;
CREATE INDEX projects_search ON projects USING gin (search);

CREATE TABLE project_members (
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'guest')),
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- Items shared with a guest: kind 'page' or 'file', item the page id or path.
CREATE TABLE project_shares (
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('page', 'file')),
    item       text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, user_id, kind, item)
);

CREATE TABLE pages (
    id         text NOT NULL PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text NOT NULL,
    path       text NOT NULL,
    components text NOT NULL DEFAULT '[]',
    metadata   text NOT NULL DEFAULT '{}',
    published  boolean NOT NULL DEFAULT false,
    version    bigint NOT NULL DEFAULT 1,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (project_id, path)
);

CREATE TABLE files (
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    path       text NOT NULL,
    content    bytea NOT NULL,
    language   text NOT NULL,
    size       bigint NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (project_id, path)
);

CREATE TABLE assets (
    id         text NOT NULL PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha256     text NOT NULL,
    type       text NOT NULL,
    size       bigint NOT NULL,
    filename   text,
    created_by text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX assets_project ON assets (project_id, id);

CREATE TABLE comments (
    id          text NOT NULL PRIMARY KEY,
    project_id  text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    page_id     text NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    element_id  text NOT NULL,
    position    text NOT NULL DEFAULT '{}',
    parent_id   text REFERENCES comments (id) ON DELETE CASCADE,
    author_id   text NOT NULL,
    body        text NOT NULL,
    mentions    text NOT NULL DEFAULT '[]',
    resolved_at bigint,
    resolved_by text,
    version     bigint NOT NULL DEFAULT 1,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE INDEX comments_project ON comments (project_id, id);

CREATE TABLE templates (
    id          text NOT NULL PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    team_id     text REFERENCES teams (id) ON DELETE CASCADE, -- NULL: the creator's own
    created_by  text NOT NULL,
    pages       text NOT NULL,   -- [{name, path, components, metadata}]
    files       text NOT NULL,   -- [{path, content, language}]
    version     bigint NOT NULL DEFAULT 1,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);

CREATE TABLE library_components (
    id         text NOT NULL PRIMARY KEY,
    team_id    text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       text NOT NULL,
    component  text NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    created_by text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (team_id, name)
);

CREATE TABLE ai_content (
    id         text NOT NULL PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type       text NOT NULL,
    prompt     text NOT NULL,
    result     text NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX ai_content_project ON ai_content (project_id, id);

CREATE TABLE audit_log (
    id         text NOT NULL PRIMARY KEY,
    project_id text NOT NULL,  -- kept after the project is deleted
    actor_id   text,
    session_id text,
    ip         text,
    action     text NOT NULL,
    target     text NOT NULL DEFAULT '',
    details    text NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL
);
CREATE INDEX audit_log_project ON audit_log (project_id, id);

-- POST answers remembered by (user, Idempotency-Key) for 24 h.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL,
    idem_key     text NOT NULL,
    request_hash text NOT NULL,  -- method, path and body: a reused key with another request is 422
    status       integer NOT NULL,
    body         bytea NOT NULL,
    headers      text NOT NULL DEFAULT '{}',
    created_at   bigint NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
