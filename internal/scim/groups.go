package scim

import (
	"errors"
	"net/http"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/patch"
	"github.com/rosterhq/roster/internal/scim/schema"
	"github.com/rosterhq/roster/internal/store"
)

// groupFromBody decodes and normalizes a Group body; the members come out separately.
func groupFromBody(dir *roster.Directory, body []byte) (*roster.SCIMGroup, []roster.GroupMember, error) {
	d, err := decodeDoc(body)
	if err != nil {
		return nil, nil, err
	}
	nd, err := normalize(schema.GroupResource, d)
	if err != nil {
		return nil, nil, err
	}
	g := &roster.SCIMGroup{OrgID: dir.OrgID, DirectoryID: dir.ID}
	members, err := groupFields(nd, g)
	if err != nil {
		return nil, nil, err
	}
	if g.Resource, err = encodeDoc(nd); err != nil {
		return nil, nil, err
	}
	return g, members, nil
}

// CreateGroup answers POST /Groups.
func (h *Handler) CreateGroup(w http.ResponseWriter, r *http.Request) error {
	dir, p, err := directory(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	g, members, err := groupFromBody(dir, body)
	if err != nil {
		return err
	}
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.CreateSCIMGroup(r.Context(), g, members)
	})
	if err != nil {
		return err
	}
	return h.writeGroup(w, r, g, http.StatusCreated)
}

// writeGroup renders a group with its members (unless excluded).
func (h *Handler) writeGroup(w http.ResponseWriter, r *http.Request, g *roster.SCIMGroup, status int) error {
	proj := parseProjection(r.URL.Query())
	var members []roster.GroupMember
	if !proj.excludes("members") {
		var err error
		if members, err = h.Store.GroupMembers(r.Context(), g.OrgID, g.DirectoryID, g.ID); err != nil {
			return err
		}
	}
	body, err := h.groupJSON(g, members, proj)
	if err != nil {
		return err
	}
	writeResource(w, status, body, g.Version, h.location("Groups", g.ID))
	return nil
}

// GetGroup answers GET /Groups/{id}.
func (h *Handler) GetGroup(w http.ResponseWriter, r *http.Request) error {
	dir, _, err := directory(r)
	if err != nil {
		return err
	}
	g, err := h.Store.GetSCIMGroup(r.Context(), dir.OrgID, dir.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(w, r, g.Version) {
		return nil
	}
	return h.writeGroup(w, r, g, http.StatusOK)
}

// ReplaceGroup answers PUT /Groups/{id}: attributes and the member list become the body's.
// Only the difference of the member lists is written.
func (h *Handler) ReplaceGroup(w http.ResponseWriter, r *http.Request) error {
	dir, p, ifv, body, err := writeRequest(r)
	if err != nil {
		return err
	}
	g, members, err := groupFromBody(dir, body)
	if err != nil {
		return err
	}
	g.ID = r.PathValue("id")
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		watch, err := watchGroup(r.Context(), tx, dir, g.ID, true)
		if err != nil {
			return err
		}
		if err := tx.UpdateSCIMGroup(r.Context(), g, ifv); err != nil {
			return err
		}
		if err := replaceMembers(r, tx, dir, g.ID, members); err != nil {
			return err
		}
		return watch.apply(r.Context(), tx)
	})
	if err != nil {
		return err
	}
	return h.writeGroup(w, r, g, http.StatusOK)
}

// replaceMembers makes a group's members exactly want, writing only the difference.
func replaceMembers(r *http.Request, tx store.Tx, dir *roster.Directory, groupID string, want []roster.GroupMember) error {
	cur, err := tx.GroupMembers(r.Context(), dir.OrgID, dir.ID, groupID)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, m := range want {
		wanted[m.Value] = true
	}
	var gone []string
	have := map[string]bool{}
	for _, m := range cur {
		have[m.Value] = true
		if !wanted[m.Value] {
			gone = append(gone, m.Value)
		}
	}
	var add []roster.GroupMember
	for _, m := range want {
		if !have[m.Value] {
			add = append(add, m)
		}
	}
	if _, err := tx.RemoveGroupMembers(r.Context(), dir.OrgID, dir.ID, groupID, gone, false); err != nil {
		return err
	}
	_, err = tx.AddGroupMembers(r.Context(), dir.OrgID, dir.ID, groupID, add)
	return err
}

// PatchGroup answers PATCH /Groups/{id}. Member changes touch only the member rows named,
// whatever the group's size. It answers 204 (RFC 7644 section 3.5.2 allows it), so that a
// member change never costs a render of a hundred thousand members; with attributes or
// excludedAttributes in the query it answers 200 with the projected group.
func (h *Handler) PatchGroup(w http.ResponseWriter, r *http.Request) error {
	dir, p, ifv, body, err := writeRequest(r)
	if err != nil {
		return err
	}
	ops, err := patch.Decode(body)
	if err != nil {
		return patchErr(err)
	}
	actions, rest, err := patch.SplitMembers(ops)
	if err != nil {
		return patchErr(err)
	}
	id := r.PathValue("id")
	var g *roster.SCIMGroup
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		cur, err := tx.GetSCIMGroup(r.Context(), dir.OrgID, dir.ID, id)
		if err != nil {
			return err
		}
		if ifv != 0 && cur.Version != ifv {
			return roster.E(roster.Stale, "group was modified: its version is %s", etag(cur.Version))
		}
		watch, err := watchGroup(r.Context(), tx, dir, id, wholeListChange(actions))
		if err != nil {
			return err
		}
		for _, a := range actions {
			members := make([]roster.GroupMember, len(a.Members))
			ids := make([]string, len(a.Members))
			for i, m := range a.Members {
				members[i] = roster.GroupMember{Value: m.Value, Type: canonicalMemberType(m.Type), Display: m.Display}
				ids[i] = m.Value
			}
			switch a.Kind {
			case "add":
				_, err = tx.AddGroupMembers(r.Context(), dir.OrgID, dir.ID, id, members)
			case "remove":
				_, err = tx.RemoveGroupMembers(r.Context(), dir.OrgID, dir.ID, id, ids, false)
			case "removeAll":
				_, err = tx.RemoveGroupMembers(r.Context(), dir.OrgID, dir.ID, id, nil, true)
			case "replaceAll":
				err = replaceMembers(r, tx, dir, id, members)
			default:
				err = errors.New("unknown member action " + a.Kind)
			}
			if err != nil {
				return err
			}
			watch.change(ids)
		}
		if err := watch.apply(r.Context(), tx); err != nil {
			return err
		}
		if len(rest) == 0 {
			g, err = tx.TouchSCIMGroup(r.Context(), dir.OrgID, dir.ID, id, cur.Version)
			return err
		}
		d, err := decodeDoc(cur.Resource)
		if err != nil {
			return err
		}
		d["id"] = cur.ID
		if _, err := patch.Apply(schema.GroupResource, d, rest); err != nil {
			return patchErr(err)
		}
		nd, err := normalize(schema.GroupResource, d)
		if err != nil {
			return err
		}
		next := &roster.SCIMGroup{ID: cur.ID, OrgID: cur.OrgID, DirectoryID: cur.DirectoryID}
		if _, err := groupFields(nd, next); err != nil {
			return err
		}
		if next.Resource, err = encodeDoc(nd); err != nil {
			return err
		}
		if err := tx.UpdateSCIMGroup(r.Context(), next, cur.Version); err != nil {
			return err
		}
		g = next
		return nil
	})
	if err != nil {
		return err
	}
	if parseProjection(r.URL.Query()).empty() {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return h.writeGroup(w, r, g, http.StatusOK)
}

// DeleteGroup answers DELETE /Groups/{id}.
func (h *Handler) DeleteGroup(w http.ResponseWriter, r *http.Request) error {
	dir, p, err := directory(r)
	if err != nil {
		return err
	}
	ifv, err := ifMatch(r)
	if err != nil {
		return err
	}
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		watch, err := watchGroup(r.Context(), tx, dir, r.PathValue("id"), true)
		if err != nil {
			return err
		}
		if err := tx.DeleteSCIMGroup(r.Context(), dir.OrgID, dir.ID, r.PathValue("id"), ifv); err != nil {
			return err
		}
		return watch.apply(r.Context(), tx)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
