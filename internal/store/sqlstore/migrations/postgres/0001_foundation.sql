-- Foundation: organizations, org API keys, SCIM directories with their tokens, audit log.
-- Times are microseconds since the Unix epoch (UTC) in both dialects.

-- +goose Up
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE org_api_keys (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    public_key     TEXT NOT NULL UNIQUE,
    secret_hash    BYTEA NOT NULL,
    display_secret TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    last_used_at   BIGINT
);
CREATE INDEX org_api_keys_org ON org_api_keys (org_id, created_at);
CREATE INDEX org_api_keys_expiry ON org_api_keys (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE scim_directories (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    default_role TEXT NOT NULL DEFAULT 'NONE',
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX scim_directories_org ON scim_directories (org_id, id);
CREATE UNIQUE INDEX scim_directories_one_default ON scim_directories (org_id) WHERE is_default;

CREATE TABLE scim_directory_tokens (
    id           TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash   BYTEA NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX scim_directory_tokens_dir ON scim_directory_tokens (directory_id, created_at);
CREATE INDEX scim_directory_tokens_expiry ON scim_directory_tokens (expires_at);

-- The audit log outlives what it describes: no foreign key, so deleting an organization
-- keeps the record of its deletion.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before_json JSONB,
    after_json  JSONB,
    request_id  TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE scim_directory_tokens;
DROP TABLE scim_directories;
DROP TABLE org_api_keys;
DROP TABLE organizations;
