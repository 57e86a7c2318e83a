package httpapi

import (
	"net/http"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim"
	"github.com/rosterhq/roster/internal/store"
)

// Group-to-role mappings of a directory (GET/PUT /scim/directories/{id}/group-mappings): a
// SCIM group of the directory to an organization role, or to a role in one project. Members
// of a mapped group get at least that role (DESIGN.md section 5); replacing the mappings
// recomputes the members of every group whose mapping changed.

// GroupMapping is one mapping as the API shows it; projectId is null for an org mapping.
type GroupMapping struct {
	GroupID          string      `json:"groupId"`
	GroupDisplayName string      `json:"groupDisplayName"`
	ProjectID        *string     `json:"projectId"`
	Role             roster.Role `json:"role"`
}

func newGroupMappings(ms []roster.GroupRoleMapping) []GroupMapping {
	out := make([]GroupMapping, len(ms))
	for i, m := range ms {
		out[i] = GroupMapping{GroupID: m.GroupID, GroupDisplayName: m.GroupName, Role: m.Role}
		if m.ProjectID != "" {
			pid := m.ProjectID
			out[i].ProjectID = &pid
		}
	}
	return out
}

func (s *server) groupMappings(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("id")
	if _, err := s.Store.GetDirectory(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	ms, err := s.Store.ListGroupMappings(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"mappings": newGroupMappings(ms)})
	return nil
}

// maxMappings bounds a directory's mappings.
const maxMappings = 1000

func (s *server) putGroupMappings(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Mappings []struct {
			GroupID   string  `json:"groupId"`
			ProjectID *string `json:"projectId"`
			Role      string  `json:"role"`
		} `json:"mappings"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.Mappings == nil {
		return roster.E(roster.Invalid, "mappings is required (an empty list removes every mapping)")
	}
	if len(body.Mappings) > maxMappings {
		return roster.E(roster.Invalid, "a directory has at most %d group mappings", maxMappings)
	}
	ms := make([]roster.GroupRoleMapping, len(body.Mappings))
	for i, b := range body.Mappings {
		role, err := roster.ParseRole(b.Role)
		if err != nil {
			return err
		}
		m := roster.GroupRoleMapping{GroupID: b.GroupID, Role: role}
		if b.ProjectID != nil {
			m.ProjectID = *b.ProjectID
		}
		if !roster.ValidID(m.GroupID) {
			return roster.E(roster.NotFound, "group %q not found in this directory", m.GroupID)
		}
		if m.ProjectID != "" && !roster.ValidID(m.ProjectID) {
			return roster.E(roster.NotFound, "project %q not found", m.ProjectID)
		}
		if err := roster.CheckMappingRole(m); err != nil {
			return err
		}
		ms[i] = m
	}
	p := principal(r)
	id := r.PathValue("id")
	var out []roster.GroupRoleMapping
	err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		dir, err := tx.GetDirectory(r.Context(), p.OrgID, id)
		if err != nil {
			return err
		}
		before, err := tx.ListGroupMappings(r.Context(), p.OrgID, id)
		if err != nil {
			return err
		}
		if err := tx.ReplaceGroupMappings(r.Context(), p.OrgID, id, ms); err != nil {
			return err
		}
		if out, err = tx.ListGroupMappings(r.Context(), p.OrgID, id); err != nil {
			return err
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
			ids, err := tx.GroupUserIDs(r.Context(), p.OrgID, id, g)
			if err != nil {
				return err
			}
			for _, u := range ids {
				users[u] = true
			}
		}
		list := make([]string, 0, len(users))
		for u := range users {
			list = append(list, u)
		}
		return scim.ApplyRoles(r.Context(), tx, dir, list)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"mappings": newGroupMappings(out)})
	return nil
}
