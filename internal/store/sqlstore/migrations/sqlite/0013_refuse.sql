-- Nothing on SQLite: the PostgreSQL migration of this number adds roster_refuse, which
-- checks travelling in a pipelined transaction use; SQLite checks in the transaction itself.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
