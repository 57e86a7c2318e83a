-- Nothing on SQLite: its one writer numbers events in the transaction that writes them, and the
-- PostgreSQL event inbox of the same number is not needed here. The file keeps the two
-- dialects' migration numbers aligned.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
