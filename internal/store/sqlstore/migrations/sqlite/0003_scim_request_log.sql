-- The SCIM request log: the last requests of each directory, so an admin can see why an
-- identity provider's push failed. No bodies, no credentials.

-- +goose Up
CREATE TABLE scim_request_log (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    directory_id TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    scim_type    TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    latency_us   BIGINT NOT NULL,
    request_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scim_request_log_dir ON scim_request_log (directory_id, id);

-- +goose Down
DROP TABLE scim_request_log;
