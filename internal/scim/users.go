package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/patch"
	"github.com/rosterhq/roster/internal/scim/schema"
	"github.com/rosterhq/roster/internal/store"
)

// CreateUser answers POST /Users (RFC 7644 section 3.3). A user that this directory had
// deactivated and the identity provider pushes again (same userName, or same externalId and
// email under a new userName) is reactivated, not duplicated; an active user with the same userName is a
// uniqueness conflict.
func (h *Handler) CreateUser(w http.ResponseWriter, r *http.Request) error {
	dir, p, err := directory(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	u, sentRoles, err := h.userFromBody(dir, body)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		existing, err := tx.FindSCIMUser(r.Context(), dir.OrgID, dir.ID, u.UserName, "")
		if errors.Is(err, store.ErrNotFound) && u.ExternalID != "" {
			// The same person pushed again under a new userName, after a deactivation.
			// externalId alone is not enough (it is not unique, and validators reuse one):
			// the primary email must agree too.
			existing, err = tx.FindSCIMUser(r.Context(), dir.OrgID, dir.ID, "", u.ExternalID)
			if err == nil && (existing.Active || u.Email == "" || roster.NormalizeEmail(existing.Email) != roster.NormalizeEmail(u.Email)) {
				existing, err = nil, store.ErrNotFound
			}
		}
		switch {
		case err == nil && existing.Active:
			return &ProtocolError{Status: http.StatusConflict, ScimType: "uniqueness",
				Detail: "a user with this userName already exists in this directory (id " + existing.ID + ")"}
		case err == nil:
			u.ID, u.MemberID = existing.ID, existing.MemberID
			if err := syncMember(r.Context(), tx, dir, u, sentRoles, false); err != nil {
				return err
			}
			return tx.UpdateSCIMUser(r.Context(), existing, u)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := syncMember(r.Context(), tx, dir, u, sentRoles, true); err != nil {
			return err
		}
		u.Groups = []roster.GroupRef{} // a new user is in no group yet
		return tx.CreateSCIMUser(r.Context(), u)
	})
	if err != nil {
		return err
	}
	return h.writeUser(w, r, u, status)
}

// userFromBody decodes and normalizes a User body into a SCIMUser of dir.
func (h *Handler) userFromBody(dir *roster.Directory, body []byte) (*roster.SCIMUser, bool, error) {
	d, err := decodeDoc(body)
	if err != nil {
		return nil, false, err
	}
	nd, err := normalize(schema.UserResource, d)
	if err != nil {
		return nil, false, err
	}
	u := &roster.SCIMUser{OrgID: dir.OrgID, DirectoryID: dir.ID}
	if err := userFields(nd, u); err != nil {
		return nil, false, err
	}
	_, sentRoles := nd["roles"]
	if u.Resource, err = encodeDoc(nd); err != nil {
		return nil, false, err
	}
	return u, sentRoles, nil
}

// GetUser answers GET /Users/{id}.
func (h *Handler) GetUser(w http.ResponseWriter, r *http.Request) error {
	dir, _, err := directory(r)
	if err != nil {
		return err
	}
	u, err := h.Store.GetSCIMUser(r.Context(), dir.OrgID, dir.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if notModified(w, r, u.Version) {
		return nil
	}
	return h.writeUser(w, r, u, http.StatusOK)
}

// writeUser renders a user with its groups.
func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, u *roster.SCIMUser, status int) error {
	proj := parseProjection(r.URL.Query())
	if u.Groups == nil && u.Version > 0 {
		// A user just written: its groups are read once more.
		g, err := h.Store.UserGroups(r.Context(), u.OrgID, u.DirectoryID, []string{u.ID})
		if err != nil {
			return err
		}
		u.Groups = g[u.ID]
	}
	body, err := h.userJSON(u, u.Groups, proj)
	if err != nil {
		return err
	}
	writeResource(w, status, body, u.Version, h.location("Users", u.ID))
	return nil
}

// ReplaceUser answers PUT /Users/{id} (RFC 7644 section 3.5.1): the resource becomes the
// body; a userName change is an update of the same user, never a delete.
func (h *Handler) ReplaceUser(w http.ResponseWriter, r *http.Request) error {
	dir, p, ifv, body, err := writeRequest(r)
	if err != nil {
		return err
	}
	u, sentRoles, err := h.userFromBody(dir, body)
	if err != nil {
		return err
	}
	u.ID = r.PathValue("id")
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		cur, err := tx.GetSCIMUser(r.Context(), dir.OrgID, dir.ID, u.ID)
		if err != nil {
			return err
		}
		if ifv != 0 && cur.Version != ifv {
			return roster.E(roster.Stale, "user was modified: its version is %s", etag(cur.Version))
		}
		u.MemberID, u.Groups = cur.MemberID, cur.Groups
		if err := syncMember(r.Context(), tx, dir, u, sentRoles, false); err != nil {
			return err
		}
		return tx.UpdateSCIMUser(r.Context(), cur, u)
	})
	if err != nil {
		return err
	}
	return h.writeUser(w, r, u, http.StatusOK)
}

// PatchUser answers PATCH /Users/{id} (RFC 7644 section 3.5.2): all operations or none,
// answered with the resource.
func (h *Handler) PatchUser(w http.ResponseWriter, r *http.Request) error {
	dir, p, ifv, body, err := writeRequest(r)
	if err != nil {
		return err
	}
	ops, err := patch.Decode(body)
	if err != nil {
		return patchErr(err)
	}
	var u *roster.SCIMUser
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		cur, err := tx.GetSCIMUser(r.Context(), dir.OrgID, dir.ID, r.PathValue("id"))
		if err != nil {
			return err
		}
		if ifv != 0 && cur.Version != ifv {
			return roster.E(roster.Stale, "user was modified: its version is %s", etag(cur.Version))
		}
		d, err := decodeDoc(cur.Resource)
		if err != nil {
			return err
		}
		d["id"] = cur.ID
		if _, ok := d["active"]; !ok {
			d["active"] = cur.Active
		}
		touched, err := patch.Apply(schema.UserResource, d, ops)
		if err != nil {
			return patchErr(err)
		}
		nd, err := normalize(schema.UserResource, d)
		if err != nil {
			return err
		}
		next := &roster.SCIMUser{ID: cur.ID, OrgID: cur.OrgID, DirectoryID: cur.DirectoryID, MemberID: cur.MemberID, Groups: cur.Groups}
		if err := userFields(nd, next); err != nil {
			return err
		}
		if next.Resource, err = encodeDoc(nd); err != nil {
			return err
		}
		if err := syncMember(r.Context(), tx, dir, next, touched["roles"], false); err != nil {
			return err
		}
		if err := tx.UpdateSCIMUser(r.Context(), cur, next); err != nil {
			return err
		}
		u = next
		return nil
	})
	if err != nil {
		return err
	}
	return h.writeUser(w, r, u, http.StatusOK)
}

// patchErr maps a PATCH engine error to its SCIM error.
func patchErr(err error) error {
	var pe *patch.Error
	if errors.As(err, &pe) {
		return badRequest(pe.ScimType, pe.Detail)
	}
	return err
}

// DeleteUser answers DELETE /Users/{id}: the SCIM resource and the org membership go; the
// member is soft-deleted with its email obfuscated, so the address can be provisioned again.
func (h *Handler) DeleteUser(w http.ResponseWriter, r *http.Request) error {
	dir, p, err := directory(r)
	if err != nil {
		return err
	}
	ifv, err := ifMatch(r)
	if err != nil {
		return err
	}
	err = h.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		u, err := tx.DeleteSCIMUser(r.Context(), dir.OrgID, dir.ID, r.PathValue("id"), ifv)
		if err != nil {
			return err
		}
		err = tx.DeleteMember(r.Context(), dir.OrgID, u.MemberID)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, roster.ErrLastOwner) {
			return nil // the last OWNER is never removed by SCIM: it stays, unlinked
		}
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// syncMember provisions u into the organization (DESIGN.md section 5): it links or creates
// the member, mirrors email, name and active, and applies the role rules.
func syncMember(ctx context.Context, tx store.Tx, dir *roster.Directory, u *roster.SCIMUser, sentRoles, created bool) error {
	email := roster.NormalizeEmail(u.Email)
	if email == "" {
		email = roster.NormalizeEmail(u.UserName)
	}
	name := u.DisplayName
	if name == "" {
		name = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
	}
	status := roster.MemberActive
	if !u.Active {
		status = roster.MemberSuspended
	}
	if u.MemberID != "" {
		m, err := tx.GetMember(ctx, dir.OrgID, u.MemberID)
		if err == nil && m.Status != roster.MemberDeleted {
			next := *m
			next.Email, next.Name, next.Status = email, name, status
			if err := tx.UpdateMember(ctx, m, &next); err != nil {
				if roster.KindOf(err) == roster.Conflict {
					return &ProtocolError{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "another member of this organization has the email " + email}
				}
				return err
			}
			if sentRoles {
				role, err := provisionedRole(ctx, tx, dir, u)
				if err != nil {
					return err
				}
				if next, change := roster.NextOrgRole(m.Role, role); change {
					return tx.SetOrgRole(ctx, dir.OrgID, m.ID, next)
				}
			}
			return nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	role, err := provisionedRole(ctx, tx, dir, u)
	if err != nil {
		return err
	}
	m, err := tx.GetMemberByEmail(ctx, dir.OrgID, email)
	switch {
	case err == nil:
		// An existing member with this email is linked, not duplicated, and linking never
		// lowers its role.
		u.MemberID = m.ID
		next := *m
		if next.Name == "" {
			next.Name = name
		}
		next.Status = status
		if err := tx.UpdateMember(ctx, m, &next); err != nil {
			return err
		}
		if next, change := roster.LinkedOrgRole(m.Role, role); change {
			return tx.SetOrgRole(ctx, dir.OrgID, m.ID, next)
		}
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	nm := &roster.Member{OrgID: dir.OrgID, Email: email, Name: name, Status: status, Role: role}
	if err := tx.CreateMember(ctx, nm); err != nil {
		return err
	}
	u.MemberID = nm.ID
	_ = created
	return nil
}

// roleFromValues reads an org role from SCIM roles values (roster.RoleFromValues).
func roleFromValues(values []string) (roster.Role, bool) { return roster.RoleFromValues(values) }
