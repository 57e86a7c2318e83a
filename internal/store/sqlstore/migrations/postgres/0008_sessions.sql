-- Server-side sessions of signed-in members. The cookie holds a random token; only its
-- SHA-256 is stored. A session dies at idle_expires_at unless used, and at expires_at in any
-- case; it is deleted with its member's suspension or deletion.

-- +goose Up
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      BYTEA NOT NULL UNIQUE,
    method          TEXT NOT NULL,
    connection_id   TEXT,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (org_id, user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
