-- The event inbox: a PostgreSQL transaction leaves its events here, unnumbered, and the
-- sequencer numbers them after the commit (sequencer.go, docs/events.md). Before this, the
-- transaction itself took its numbers from the organization's event_seqs row, which then stayed
-- locked until its commit was flushed: the commits of one organization ran one after the other
-- instead of sharing WAL flushes.

-- +goose Up
CREATE TABLE event_inbox (
    pos        BIGSERIAL PRIMARY KEY,
    org_id     TEXT NOT NULL,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX event_inbox_org ON event_inbox (org_id, pos);

-- +goose Down
DROP TABLE event_inbox;
