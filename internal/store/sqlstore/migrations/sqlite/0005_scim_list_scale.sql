-- Lists of large directories. The paging indexes lead with the organization, so that a page
-- (scoped by organization and directory) skips the rows before it in the index alone; and
-- each directory's user and group counts are kept by triggers in the same transaction as the
-- change, so that a list's totalResults does not count a million rows on every page.

-- +goose Up
CREATE INDEX scim_users_org_page ON scim_users (org_id, directory_id, id);
DROP INDEX scim_users_page;
CREATE INDEX scim_groups_org_page ON scim_groups (org_id, directory_id, id);
DROP INDEX scim_groups_page;
-- The externalId lookups lead with the organization too, or the paging index would look as
-- good to the planner for them (it also yields creation order), and a lookup would scan the
-- directory.
CREATE INDEX scim_users_org_external_id ON scim_users (org_id, directory_id, external_id, id) WHERE external_id IS NOT NULL;
DROP INDEX scim_users_external_id;
CREATE INDEX scim_groups_org_external_id ON scim_groups (org_id, directory_id, external_id, id) WHERE external_id IS NOT NULL;
DROP INDEX scim_groups_external_id;

CREATE TABLE scim_directory_counts (
    directory_id TEXT PRIMARY KEY REFERENCES scim_directories (id) ON DELETE CASCADE,
    users        BIGINT NOT NULL DEFAULT 0,
    groups       BIGINT NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO scim_directory_counts (directory_id, users, groups)
    SELECT d.id, (SELECT COUNT(*) FROM scim_users u WHERE u.directory_id = d.id),
           (SELECT COUNT(*) FROM scim_groups g WHERE g.directory_id = d.id)
    FROM scim_directories d;

-- +goose StatementBegin
CREATE TRIGGER scim_directory_counts_new AFTER INSERT ON scim_directories BEGIN
    INSERT INTO scim_directory_counts (directory_id) VALUES (NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scim_users_counted AFTER INSERT ON scim_users BEGIN
    UPDATE scim_directory_counts SET users = users + 1 WHERE directory_id = NEW.directory_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scim_users_uncounted AFTER DELETE ON scim_users BEGIN
    UPDATE scim_directory_counts SET users = users - 1 WHERE directory_id = OLD.directory_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scim_groups_counted AFTER INSERT ON scim_groups BEGIN
    UPDATE scim_directory_counts SET groups = groups + 1 WHERE directory_id = NEW.directory_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER scim_groups_uncounted AFTER DELETE ON scim_groups BEGIN
    UPDATE scim_directory_counts SET groups = groups - 1 WHERE directory_id = OLD.directory_id;
END;
-- +goose StatementEnd

-- +goose Down
CREATE INDEX scim_groups_external_id ON scim_groups (directory_id, external_id) WHERE external_id IS NOT NULL;
DROP INDEX scim_groups_org_external_id;
CREATE INDEX scim_users_external_id ON scim_users (directory_id, external_id) WHERE external_id IS NOT NULL;
DROP INDEX scim_users_org_external_id;
DROP TRIGGER scim_groups_uncounted;
DROP TRIGGER scim_groups_counted;
DROP TRIGGER scim_users_uncounted;
DROP TRIGGER scim_users_counted;
DROP TRIGGER scim_directory_counts_new;
DROP TABLE scim_directory_counts;
CREATE INDEX scim_groups_page ON scim_groups (directory_id, id);
DROP INDEX scim_groups_org_page;
CREATE INDEX scim_users_page ON scim_users (directory_id, id);
DROP INDEX scim_users_org_page;
