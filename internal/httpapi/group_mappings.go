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
	if len(body.Mappings) > scim.MaxMappings {
		return roster.E(roster.Invalid, "a directory has at most %d group mappings", scim.MaxMappings)
	}
	ms := make([]roster.GroupRoleMapping, len(body.Mappings))
	for i, b := range body.Mappings {
		role, err := roster.ParseRole(b.Role)
		if err != nil {
			return err
		}
		ms[i] = roster.GroupRoleMapping{GroupID: b.GroupID, Role: role}
		if b.ProjectID != nil {
			ms[i].ProjectID = *b.ProjectID
		}
		if err := scim.CheckMapping(ms[i]); err != nil {
			return err
		}
	}
	p := principal(r)
	var out []roster.GroupRoleMapping
	err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		var err error
		out, err = scim.ReplaceGroupMappings(r.Context(), tx, p.OrgID, r.PathValue("id"), ms)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"mappings": newGroupMappings(out)})
	return nil
}
