-- roster_refuse raises a unique violation when taken is true. A check that must hold for a
-- transaction's writes to be right (RequireNewSCIMPerson) then travels in the same pipelined
-- round trip as the writes (pipeline.go), and fails the transaction exactly as a unique index
-- would.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION roster_refuse(taken boolean, message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF taken THEN
        RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = message;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION roster_refuse(boolean, text);
