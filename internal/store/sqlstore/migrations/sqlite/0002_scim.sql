-- SCIM provisioning: organization members (users) with their org membership, and the SCIM
-- users, groups and group memberships of each directory.

-- +goose Up
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
-- Email is unique per organization among live rows only: a deleted member's email is
-- obfuscated and the address can be provisioned again.
CREATE UNIQUE INDEX users_email ON users (org_id, email) WHERE status <> 'deleted';

CREATE TABLE org_memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE scim_users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    directory_id  TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id),
    user_name     TEXT NOT NULL,
    user_name_key TEXT NOT NULL,
    external_id   TEXT,
    active        BOOLEAN NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    given_name    TEXT NOT NULL DEFAULT '',
    family_name   TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]',
    resource      TEXT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (directory_id, user_name_key);
-- externalId has no uniqueness in RFC 7643 (section 3.1): it identifies a returning user, and
-- Microsoft's validator posts several users with one externalId.
CREATE INDEX scim_users_external_id ON scim_users (directory_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_users_page ON scim_users (directory_id, id);
CREATE INDEX scim_users_user ON scim_users (user_id);

CREATE TABLE scim_groups (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    directory_id     TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    display_name     TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    external_id      TEXT,
    resource         TEXT NOT NULL,
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (directory_id, display_name_key);
CREATE INDEX scim_groups_external_id ON scim_groups (directory_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_groups_page ON scim_groups (directory_id, id);

-- One row per membership: adding or removing one member of a group of 100,000 touches one row.
CREATE TABLE scim_group_members (
    group_id     TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    member_id    TEXT NOT NULL,
    member_type  TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    display      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX scim_group_members_member ON scim_group_members (member_id);

-- +goose Down
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE org_memberships;
DROP TABLE users;
