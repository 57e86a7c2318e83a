-- A member's email is unique per organization among live members. The index's condition
-- names deleted_at, which only a deletion sets, rather than status: a suspension or a
-- reactivation then leaves the index alone instead of rewriting its entry.

-- +goose Up
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email_live ON users (org_id, email) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX users_email_live;
CREATE UNIQUE INDEX users_email ON users (org_id, email) WHERE status <> 'deleted';
