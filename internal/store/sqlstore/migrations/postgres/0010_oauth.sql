-- The OAuth 2.0 / OpenID Connect provider: apps (clients) of an organization, their allowed
-- browser origins, authorization codes, access and refresh tokens (hashed), consents, and
-- the instance's token-signing keys (encrypted under the keyring).

-- +goose Up
CREATE TABLE oauth_apps (
    id                     TEXT PRIMARY KEY,
    org_id                 TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    client_id              TEXT NOT NULL UNIQUE,
    name                   TEXT NOT NULL,
    name_key               TEXT NOT NULL,
    redirect_uris          TEXT NOT NULL,
    scopes                 TEXT NOT NULL,
    pkce_required          BOOLEAN NOT NULL,
    public                 BOOLEAN NOT NULL,
    id_token_alg           TEXT NOT NULL,
    -- allowed_origins repeats oauth_app_origins as a JSON array, so that reading an app
    -- takes one query.
    allowed_origins        TEXT NOT NULL DEFAULT '[]',
    secret_hash            BYTEA,
    prev_secret_hash       BYTEA,
    prev_secret_expires_at BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
-- App names are unique per organization, case-insensitively.
CREATE UNIQUE INDEX oauth_apps_name ON oauth_apps (org_id, name_key);

-- The origins whose browsers may call the token, revocation and userinfo endpoints for an
-- app (CORS); looked up by origin for preflight requests, which carry no credentials.
CREATE TABLE oauth_app_origins (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    PRIMARY KEY (app_id, origin)
);
CREATE INDEX oauth_app_origins_origin ON oauth_app_origins (origin);

CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    app_id         TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash      BYTEA NOT NULL UNIQUE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- family_id groups what one authorization issued: the id of its code. A reused code or a
-- reused refresh token revokes the whole family.
CREATE TABLE oauth_tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    family_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (org_id, family_id);
-- Not partial on revoked_at: a partial index whose predicate matches "revoked_at IS NULL"
-- lures PostgreSQL's generic plans into scanning an organization's tokens for an update by id.
CREATE INDEX oauth_tokens_user ON oauth_tokens (org_id, user_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE oauth_consents (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);

-- Token-signing keys belong to the instance (one issuer, one JWKS). generation numbers the
-- keys of an algorithm; the unique index makes two replicas that rotate at once agree on one
-- new key. A key superseded at retired_at stays published until its tokens have expired.
CREATE TABLE oauth_signing_keys (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    generation  BIGINT NOT NULL,
    private_enc TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
CREATE UNIQUE INDEX oauth_signing_keys_generation ON oauth_signing_keys (alg, generation);

-- +goose Down
DROP TABLE oauth_signing_keys;
DROP TABLE oauth_consents;
DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_app_origins;
DROP TABLE oauth_apps;
