-- 0002_identity: accounts, sessions, refresh-token families, MFA factors,
-- one-time tokens (magic links, MFA challenges), security events, and the
-- sealed key ring. Times are Unix microseconds; ids are UUIDv7 text.
-- Secrets are never stored in the clear: passwords as argon2id PHC strings,
-- tokens and recovery codes as SHA-256 hex, TOTP seeds and keys sealed.
CREATE TABLE users (
    id                TEXT NOT NULL PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,            -- lower-cased
    username          TEXT UNIQUE,                     -- lower-cased
    password_hash     TEXT,                            -- NULL: passwordless
    profile           TEXT NOT NULL DEFAULT '{}',
    auth_providers    TEXT NOT NULL DEFAULT '[]',
    subscription_tier TEXT NOT NULL DEFAULT 'free',
    security_settings TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    mfa_enabled       INTEGER NOT NULL DEFAULT 0,
    failed_logins     INTEGER NOT NULL DEFAULT 0,
    locked_until      INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_active       INTEGER
) WITHOUT ROWID;

CREATE TABLE user_sessions (
    id                 TEXT NOT NULL PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_fingerprint TEXT,
    ip                 TEXT,
    user_agent         TEXT,
    csrf_hash          TEXT,
    created_at         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    revoked_at         INTEGER,
    revoke_reason      TEXT
) WITHOUT ROWID;
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash       TEXT NOT NULL PRIMARY KEY,
    session_id       TEXT NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    spent_at         INTEGER,
    successor_sealed BLOB
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE mfa_factors (
    id             TEXT NOT NULL PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('totp')),
    secret_sealed  BLOB NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 0,
    last_used_step INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX mfa_factors_user ON mfa_factors (user_id);

CREATE TABLE recovery_codes (
    code_hash TEXT NOT NULL PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE one_time_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('magic_link', 'mfa')),
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

CREATE TABLE user_security_events (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    risk_score INTEGER NOT NULL DEFAULT 0,
    ip         TEXT,
    user_agent TEXT,
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX user_security_events_user ON user_security_events (user_id, id);

CREATE TABLE crypto_keys (
    id         INTEGER NOT NULL PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('data', 'jwt')),
    kid        TEXT,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
