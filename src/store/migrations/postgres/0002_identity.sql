-- 0002_identity: accounts, sessions, refresh-token families, MFA factors,
-- one-time tokens (magic links, MFA challenges), security events, and the
-- sealed key ring. Times are Unix microseconds; ids are UUIDv7 text.
-- Secrets are never stored in the clear: passwords as argon2id PHC strings,
-- tokens and recovery codes as SHA-256 hex, TOTP seeds and keys sealed.
CREATE TABLE users (
    id                text PRIMARY KEY,
    email             text NOT NULL UNIQUE,
    username          text UNIQUE,
    password_hash     text,
    profile           jsonb NOT NULL DEFAULT '{}',
    auth_providers    jsonb NOT NULL DEFAULT '[]',
    subscription_tier text NOT NULL DEFAULT 'free',
    security_settings jsonb NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    mfa_enabled       boolean NOT NULL DEFAULT false,
    failed_logins     integer NOT NULL DEFAULT 0,
    locked_until      bigint NOT NULL DEFAULT 0,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL,
    last_active       bigint
);

CREATE TABLE user_sessions (
    id                 text PRIMARY KEY,
    user_id            text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_fingerprint text,
    ip                 text,
    user_agent         text,
    csrf_hash          text,
    created_at         bigint NOT NULL,
    last_seen          bigint NOT NULL,
    expires_at         bigint NOT NULL,
    revoked_at         bigint,
    revoke_reason      text
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash       text PRIMARY KEY,
    session_id       text NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    created_at       bigint NOT NULL,
    expires_at       bigint NOT NULL,
    spent_at         bigint,
    successor_sealed bytea
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE mfa_factors (
    id             text PRIMARY KEY,
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('totp')),
    secret_sealed  bytea NOT NULL,
    enabled        boolean NOT NULL DEFAULT false,
    last_used_step bigint NOT NULL DEFAULT 0,
    created_at     bigint NOT NULL
);
CREATE INDEX mfa_factors_user ON mfa_factors (user_id);

CREATE TABLE recovery_codes (
    code_hash text PRIMARY KEY,
    user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at   bigint
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE one_time_tokens (
    token_hash text PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('magic_link', 'mfa')),
    user_id    text REFERENCES users (id) ON DELETE CASCADE,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);

CREATE TABLE user_security_events (
    id         text PRIMARY KEY,
    user_id    text REFERENCES users (id) ON DELETE CASCADE,
    event_type text NOT NULL,
    risk_score integer NOT NULL DEFAULT 0,
    ip         text,
    user_agent text,
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL
);
CREATE INDEX user_security_events_user ON user_security_events (user_id, id);

CREATE TABLE crypto_keys (
    id         integer PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('data', 'jwt')),
    kid        text,
    wrapped    bytea NOT NULL,
    created_at bigint NOT NULL,
    retired_at bigint
);
