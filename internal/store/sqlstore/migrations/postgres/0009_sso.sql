-- Single sign-on: SAML and OIDC connections per organization, corporate domains (verified by
-- DNS or by the instance admin; a verified domain belongs to one organization only), the
-- organization's enforcement switch, the server-side state of logins in flight, and the
-- replay cache of accepted SAML assertions. Login state and the replay cache live in the
-- database so that every replica shares them.

-- +goose Up
CREATE TABLE saml_connections (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    idp_entity_id     TEXT NOT NULL,
    sso_url           TEXT NOT NULL,
    slo_url           TEXT NOT NULL DEFAULT '',
    certificates      TEXT NOT NULL,
    metadata_url      TEXT NOT NULL DEFAULT '',
    idp_initiated     BOOLEAN NOT NULL DEFAULT FALSE,
    jit               BOOLEAN NOT NULL DEFAULT FALSE,
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    attribute_mapping TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX saml_connections_org ON saml_connections (org_id, id);

CREATE TABLE oidc_connections (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    client_secret_enc TEXT NOT NULL,
    scopes            TEXT NOT NULL DEFAULT '',
    jit               BOOLEAN NOT NULL DEFAULT FALSE,
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    attribute_mapping TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX oidc_connections_org ON oidc_connections (org_id, id);

CREATE TABLE sso_domains (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain        TEXT NOT NULL,
    connection_id TEXT NOT NULL DEFAULT '',
    challenge     TEXT NOT NULL,
    verified_at   BIGINT,
    verified_by   TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, domain)
);
-- One organization per verified domain.
CREATE UNIQUE INDEX sso_domains_verified ON sso_domains (domain) WHERE verified_at IS NOT NULL;

CREATE TABLE sso_settings (
    org_id     TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    enforced   BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sso_login_states (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL,
    protocol      TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    nonce         TEXT NOT NULL DEFAULT '',
    verifier_enc  TEXT NOT NULL DEFAULT '',
    return_to     TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX sso_login_states_request ON sso_login_states (request_id);
CREATE INDEX sso_login_states_expiry ON sso_login_states (expires_at);

CREATE TABLE saml_assertions_seen (
    connection_id TEXT NOT NULL,
    assertion_id  TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (connection_id, assertion_id)
);
CREATE INDEX saml_assertions_seen_expiry ON saml_assertions_seen (expires_at);

-- +goose Down
DROP TABLE saml_assertions_seen;
DROP TABLE sso_login_states;
DROP TABLE sso_settings;
DROP TABLE sso_domains;
DROP TABLE oidc_connections;
DROP TABLE saml_connections;
