-- Lists of large directories: the paging indexes lead with the organization, so that a page
-- (scoped by organization and directory) and its count are answered from the index alone.
-- (PostgreSQL counts with COUNT(*): a counter row would serialise every create of a
-- directory across replicas.)

-- +goose Up
CREATE INDEX scim_users_org_page ON scim_users (org_id, directory_id, id);
DROP INDEX scim_users_page;
CREATE INDEX scim_groups_org_page ON scim_groups (org_id, directory_id, id);
DROP INDEX scim_groups_page;

-- +goose Down
CREATE INDEX scim_groups_page ON scim_groups (directory_id, id);
DROP INDEX scim_groups_org_page;
CREATE INDEX scim_users_page ON scim_users (directory_id, id);
DROP INDEX scim_users_org_page;
