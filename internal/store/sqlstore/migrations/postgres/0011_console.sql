-- The console's sign-in: members' passwords and TOTP seeds, and one-time links (invitations
-- and password resets). Passwords are argon2id hashes; TOTP seeds are keyring ciphertexts;
-- links are stored as the SHA-256 of their token.

-- +goose Up
CREATE TABLE member_credentials (
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash   TEXT NOT NULL DEFAULT '',
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX member_credentials_user ON member_credentials (user_id);

CREATE TABLE member_links (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_by_type TEXT NOT NULL,
    created_by_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX member_links_org ON member_links (org_id, id);
CREATE INDEX member_links_user ON member_links (user_id);

-- Sign-in finds a person's memberships by email across organizations.
CREATE INDEX users_login_email ON users (email) WHERE deleted_at IS NULL;

-- The members page reads the directories of a page of members, and filters by source.
CREATE INDEX scim_users_org_user ON scim_users (org_id, user_id);

-- +goose Down
DROP INDEX scim_users_org_user;
DROP INDEX users_login_email;
DROP TABLE member_links;
DROP TABLE member_credentials;
