package scim

import (
	"context"
	"sort"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// MaxMappings bounds a directory's group-to-role mappings.
const MaxMappings = 1000

// CheckMapping refuses a mapping that cannot be stored: a malformed group or project id (it
// names nothing: NotFound) or a role a mapping cannot give.
func CheckMapping(m roster.GroupRoleMapping) error {
	if !roster.ValidID(m.GroupID) {
		return roster.E(roster.NotFound, "group %q not found in this directory", m.GroupID)
	}
	if m.ProjectID != "" && !roster.ValidID(m.ProjectID) {
		return roster.E(roster.NotFound, "project %q not found", m.ProjectID)
	}
	return roster.CheckMappingRole(m)
}

// ReplaceGroupMappings makes a directory's mappings exactly ms, in tx, and recomputes the
// roles of the members of every group whose mappings changed (DESIGN.md section 5). It
// returns the mappings as stored, with their groups' names. The organization API's PUT and
// the console both call it.
func ReplaceGroupMappings(ctx context.Context, tx store.Tx, orgID, dirID string, ms []roster.GroupRoleMapping) ([]roster.GroupRoleMapping, error) {
	if len(ms) > MaxMappings {
		return nil, roster.E(roster.Invalid, "a directory has at most %d group mappings", MaxMappings)
	}
	for _, m := range ms {
		if err := CheckMapping(m); err != nil {
			return nil, err
		}
	}
	dir, err := tx.GetDirectory(ctx, orgID, dirID)
	if err != nil {
		return nil, err
	}
	before, err := tx.ListGroupMappings(ctx, orgID, dirID)
	if err != nil {
		return nil, err
	}
	if err := tx.ReplaceGroupMappings(ctx, orgID, dirID, ms); err != nil {
		return nil, err
	}
	out, err := tx.ListGroupMappings(ctx, orgID, dirID)
	if err != nil {
		return nil, err
	}
	// The members of every group whose mappings changed are recomputed.
	changed := map[string]bool{}
	key := func(m roster.GroupRoleMapping) string { return m.GroupID + "|" + m.ProjectID + "|" + string(m.Role) }
	old, now := map[string]bool{}, map[string]bool{}
	for _, m := range before {
		old[key(m)] = true
	}
	for _, m := range out {
		now[key(m)] = true
		if !old[key(m)] {
			changed[m.GroupID] = true
		}
	}
	for _, m := range before {
		if !now[key(m)] {
			changed[m.GroupID] = true
		}
	}
	users := map[string]bool{}
	for g := range changed {
		ids, err := tx.GroupUserIDs(ctx, orgID, dirID, g)
		if err != nil {
			return nil, err
		}
		for _, u := range ids {
			users[u] = true
		}
	}
	list := make([]string, 0, len(users))
	for u := range users {
		list = append(list, u)
	}
	sort.Strings(list)
	return out, ApplyRoles(ctx, tx, dir, list)
}
