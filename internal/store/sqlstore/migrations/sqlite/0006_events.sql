-- Events (the outbox), webhook endpoints and their deliveries.
--
-- Every SCIM write inserts its events, so they have no index beyond their key: rows append at
-- the end of the table (rowid order is insertion order, which the hourly purge scans from),
-- and the key index gets small entries. (WITHOUT ROWID would store the ~1 KB rows in the key's
-- B-tree, several times slower to insert.)
--
-- Events are numbered per organization, gap-free in commit order (docs/events.md). On SQLite
-- the number is the organization's highest plus one, taken inside the write transaction;
-- event_seqs, the counter PostgreSQL needs, stays empty here.

-- +goose Up
CREATE TABLE event_seqs (
    org_id TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);

CREATE TABLE events (
    org_id     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);

CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL DEFAULT '[]',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    secret_enc      TEXT NOT NULL,
    prev_secret_enc TEXT NOT NULL DEFAULT '',
    prev_expires_at BIGINT,
    cursor_seq      BIGINT NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   BIGINT,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    manual          BOOLEAN NOT NULL DEFAULT FALSE,
    last_attempt_at BIGINT,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    last_latency_us BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, event_seq, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_event ON webhook_deliveries (org_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);


-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE events;
DROP TABLE event_seqs;
