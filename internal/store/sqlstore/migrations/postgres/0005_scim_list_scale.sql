-- Lists of large directories: the paging indexes lead with the organization, so that a page
-- (scoped by organization and directory) and its count are answered from the index alone.
-- (PostgreSQL counts with COUNT(*): a counter row would serialise every create of a
-- directory across replicas.)

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

-- +goose Down
CREATE INDEX scim_groups_external_id ON scim_groups (directory_id, external_id) WHERE external_id IS NOT NULL;
DROP INDEX scim_groups_org_external_id;
CREATE INDEX scim_users_external_id ON scim_users (directory_id, external_id) WHERE external_id IS NOT NULL;
DROP INDEX scim_users_org_external_id;
CREATE INDEX scim_groups_page ON scim_groups (directory_id, id);
DROP INDEX scim_groups_org_page;
CREATE INDEX scim_users_page ON scim_users (directory_id, id);
DROP INDEX scim_users_org_page;
