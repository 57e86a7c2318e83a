-- The organization API: projects with their API keys and memberships, and the
-- group-to-role mappings of SCIM directories.

-- +goose Up
CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    metadata   TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Project names are unique per organization, case-insensitively.
CREATE UNIQUE INDEX projects_name ON projects (org_id, name_key);
CREATE INDEX projects_page ON projects (org_id, id);

CREATE TABLE project_api_keys (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    public_key     TEXT NOT NULL UNIQUE,
    secret_hash    BLOB NOT NULL,
    display_secret TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    last_used_at   BIGINT
);
CREATE INDEX project_api_keys_project ON project_api_keys (project_id, created_at);
CREATE INDEX project_api_keys_expiry ON project_api_keys (expires_at) WHERE expires_at IS NOT NULL;

-- A project role overrides the org role; source says whether an admin ('api') or a
-- directory's group mapping ('scim') set it, so that provisioning only takes back its own.
CREATE TABLE project_memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT 'api',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_memberships_user ON project_memberships (user_id);

-- project_id '' maps the group to an organization role.
CREATE TABLE group_role_mappings (
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    project_id   TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (directory_id, group_id, project_id)
);
CREATE INDEX group_role_mappings_group ON group_role_mappings (group_id);
CREATE INDEX group_role_mappings_project ON group_role_mappings (org_id, project_id);

-- Membership listings page by id over live members, and count them, from this index alone;
-- owner counts guard the last OWNER.
CREATE INDEX users_live ON users (org_id, id) WHERE status <> 'deleted';
CREATE INDEX org_memberships_role ON org_memberships (org_id, role);

-- +goose Down
DROP INDEX org_memberships_role;
DROP INDEX users_live;
DROP TABLE group_role_mappings;
DROP TABLE project_memberships;
DROP TABLE project_api_keys;
DROP TABLE projects;
