package scim

import (
	"context"
	"sort"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/patch"
	"github.com/rosterhq/roster/internal/store"
)

// Provisioning into roles (DESIGN.md section 5): the rules are pure functions of the domain
// (roster.ProvisionedOrgRole and friends); this file reads their inputs in the write's
// transaction and writes what they answer.

// mappedRole is the org role the identity provider asks for u: its roles value or the
// directory's default, raised by the mapped groups it is in.
func mappedRole(ctx context.Context, tx store.Tx, dir *roster.Directory, u *roster.SCIMUser) (roster.Role, error) {
	var mapped []roster.Role
	if len(u.Groups) > 0 {
		maps, err := tx.ListGroupMappings(ctx, dir.OrgID, dir.ID)
		if err != nil {
			return "", err
		}
		groups := make([]string, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = g.Value
		}
		mapped = roster.MappedOrgRoles(maps, groups)
	}
	return roster.ProvisionedOrgRole(dir.DefaultRole, u.Roles, mapped), nil
}

// ApplyRoles recomputes the organization and project roles of the given SCIM users of dir
// from their roles values, the directory's default role and its group mappings. It is what
// a change of a mapped group's members, or of the mappings themselves, triggers. OWNERs
// keep their role; project memberships an admin set are replaced only in projects that a
// mapping names, and only provisioning's own are taken back.
func ApplyRoles(ctx context.Context, tx store.Tx, dir *roster.Directory, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	maps, err := tx.ListGroupMappings(ctx, dir.OrgID, dir.ID)
	if err != nil {
		return err
	}
	inputs, err := tx.ProvisionInputs(ctx, dir.OrgID, dir.ID, userIDs)
	if err != nil {
		return err
	}
	var orgChanges []store.RoleChange
	var projChanges []store.ProjectRoleChange
	for i := range inputs {
		in := &inputs[i]
		want := roster.ProvisionedOrgRole(dir.DefaultRole, in.Roles, roster.MappedOrgRoles(maps, in.Groups))
		if next, change := roster.NextOrgRole(in.Member.Role, want); change {
			orgChanges = append(orgChanges, store.RoleChange{Before: &in.Member, Role: next})
		}
		roles, mappedProjects := roster.ProvisionedProjectRoles(maps, in.Groups)
		cur := map[string]*roster.ProjectMembership{}
		for j := range in.Projects {
			cur[in.Projects[j].ProjectID] = &in.Projects[j]
		}
		projects := make([]string, 0, len(mappedProjects))
		for p := range mappedProjects {
			projects = append(projects, p)
		}
		sort.Strings(projects)
		for _, p := range projects {
			c := cur[p]
			if r, ok := roles[p]; ok {
				if c == nil || c.Role != r || c.Source != roster.SourceSCIM {
					projChanges = append(projChanges, store.ProjectRoleChange{ProjectID: p, Member: &in.Member, Before: c, Role: r, Source: roster.SourceSCIM})
				}
			} else if c != nil && c.Source == roster.SourceSCIM {
				projChanges = append(projChanges, store.ProjectRoleChange{ProjectID: p, Member: &in.Member, Before: c, Delete: true})
			}
		}
	}
	if err := tx.SetOrgRoles(ctx, dir.OrgID, orgChanges); err != nil {
		return err
	}
	return tx.SetProjectRoles(ctx, dir.OrgID, projChanges)
}

// groupWatch follows the members of one group through a write, so that when the group is
// mapped to a role the users who joined or left it are recomputed. An unmapped group costs
// one small read.
type groupWatch struct {
	dir     *roster.Directory
	groupID string
	mapped  bool
	// before is the user members before the write, when the write's changes are not known
	// member by member (replace, remove all, delete).
	before  []string
	snap    bool
	changed []string
}

func watchGroup(ctx context.Context, tx store.Tx, dir *roster.Directory, groupID string, snapshot bool) (*groupWatch, error) {
	g := &groupWatch{dir: dir, groupID: groupID}
	maps, err := tx.ListGroupMappings(ctx, dir.OrgID, dir.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range maps {
		if m.GroupID == groupID {
			g.mapped = true
		}
	}
	if g.mapped && snapshot {
		g.snap = true
		if g.before, err = tx.GroupUserIDs(ctx, dir.OrgID, dir.ID, groupID); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// change notes members added or removed by id.
func (g *groupWatch) change(ids []string) {
	if g.mapped && !g.snap {
		g.changed = append(g.changed, ids...)
	}
}

// apply recomputes the roles of the users whose membership changed.
func (g *groupWatch) apply(ctx context.Context, tx store.Tx) error {
	if !g.mapped {
		return nil
	}
	ids := g.changed
	if g.snap {
		after, err := tx.GroupUserIDs(ctx, g.dir.OrgID, g.dir.ID, g.groupID)
		if err != nil {
			return err
		}
		ids = symmetricDifference(g.before, after)
	}
	return ApplyRoles(ctx, tx, g.dir, ids)
}

func symmetricDifference(a, b []string) []string {
	in := make(map[string]int, len(a)+len(b))
	for _, x := range a {
		in[x] |= 1
	}
	for _, x := range b {
		in[x] |= 2
	}
	var out []string
	for x, v := range in {
		if v != 3 {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// wholeListChange reports whether member actions replace or clear the whole list, whose
// changes are then found by comparing the members before and after.
func wholeListChange(actions []patch.MemberAction) bool {
	for _, a := range actions {
		if a.Kind == "removeAll" || a.Kind == "replaceAll" {
			return true
		}
	}
	return false
}
