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
	ctx := r.Context()
	// The common case, a new person, is checked for on a reader first: then the write
	// transaction (on SQLite, the one writer every request waits for) only inserts. Where
	// writes are pipelined (PostgreSQL), the check goes with the inserts instead, in their one
	// round trip. Should another request create the same userName or email in between, the
	// unique indexes refuse the insert and the create runs again with its checks inside the
	// transaction.
	checkWithWrites := h.Store.WritesPipelined()
	if checkWithWrites || h.isNewPerson(ctx, dir, u) {
		err = h.Store.Tx(ctx, p.Actor(), func(tx store.Tx) error {
			if checkWithWrites {
				if err := tx.RequireNewSCIMPerson(ctx, dir.OrgID, dir.ID, u.UserName, u.ExternalID, memberEmail(u)); err != nil {
					return err
				}
			}
			return createUser(ctx, tx, dir, u, true)
		})
		if roster.KindOf(err) != roster.Conflict {
			if err != nil {
				return err
			}
			return h.writeUser(w, r, u, http.StatusCreated)
		}
		u.ID, u.MemberID = "", ""
	}
	err = h.Store.Tx(ctx, p.Actor(), func(tx store.Tx) error {
		// The user with this userName, else a deactivated one with this externalId: the same
		// person pushed again under a new userName. externalId alone is not enough (it is not
		// unique, and validators reuse one): the primary email must agree too.
		existing, err := findReturning(ctx, tx, dir, u)
		switch {
		case err == nil && existing.Active:
			return &ProtocolError{Status: http.StatusConflict, ScimType: "uniqueness",
				Detail: "a user with this userName already exists in this directory (id " + existing.ID + ")"}
		case err == nil:
			u.ID, u.MemberID = existing.ID, existing.MemberID
			if err := syncMember(ctx, tx, dir, u, sentRoles, nil); err != nil {
				return err
			}
			return tx.UpdateSCIMUser(ctx, existing, u)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := syncMember(ctx, tx, dir, u, sentRoles, nil); err != nil {
			return err
		}
		return createUser(ctx, tx, dir, u, false)
	})
	if err != nil {
		return err
	}
	return h.writeUser(w, r, u, http.StatusCreated)
}

// findReturning finds the user a create would bring back: the one with u's userName, else a
// deactivated one with its externalId and the same primary email.
func findReturning(ctx context.Context, rd store.SCIMReader, dir *roster.Directory, u *roster.SCIMUser) (*roster.SCIMUser, error) {
	existing, err := rd.FindSCIMUser(ctx, dir.OrgID, dir.ID, u.UserName, u.ExternalID)
	if err == nil && strings.ToLower(existing.UserName) != strings.ToLower(u.UserName) &&
		(existing.Active || u.Email == "" || roster.NormalizeEmail(existing.Email) != roster.NormalizeEmail(u.Email)) {
		return nil, store.ErrNotFound
	}
	return existing, err
}

// isNewPerson tells, from a reader, that a create brings back no user and links no member.
func (h *Handler) isNewPerson(ctx context.Context, dir *roster.Directory, u *roster.SCIMUser) bool {
	isNew, err := h.Store.IsNewSCIMPerson(ctx, dir.OrgID, dir.ID, u.UserName, u.ExternalID, memberEmail(u))
	return err == nil && isNew
}

// createUser writes a new SCIM user; newMember says that its member is new too (a person
// isNewPerson found nobody for), so that the member is created without being looked up.
func createUser(ctx context.Context, tx store.Tx, dir *roster.Directory, u *roster.SCIMUser, newMember bool) error {
	if newMember {
		m := &roster.Member{OrgID: dir.OrgID, Email: memberEmail(u), Name: memberName(u), Status: memberStatus(u), Role: provisionedRole(dir, u)}
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		u.MemberID = m.ID
	}
	u.Groups = []roster.GroupRef{} // a new user is in no group yet
	return tx.CreateSCIMUser(ctx, u)
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
	err = h.updateUser(r, dir, p.Actor(), ifv, func(cur *roster.SCIMUser) (*roster.SCIMUser, bool, error) {
		next := *u
		next.MemberID, next.Groups = cur.MemberID, cur.Groups
		return &next, sentRoles, nil
	}, &u)
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
	err = h.updateUser(r, dir, p.Actor(), ifv, func(cur *roster.SCIMUser) (*roster.SCIMUser, bool, error) {
		d, err := decodeDoc(cur.Resource)
		if err != nil {
			return nil, false, err
		}
		d["id"] = cur.ID
		if _, ok := d["active"]; !ok {
			d["active"] = cur.Active
		}
		touched, err := patch.Apply(schema.UserResource, d, ops)
		if err != nil {
			return nil, false, patchErr(err)
		}
		nd, err := normalize(schema.UserResource, d)
		if err != nil {
			return nil, false, err
		}
		next := &roster.SCIMUser{ID: cur.ID, OrgID: cur.OrgID, DirectoryID: cur.DirectoryID, MemberID: cur.MemberID, Groups: cur.Groups}
		if err := userFields(nd, next); err != nil {
			return nil, false, err
		}
		if next.Resource, err = encodeDoc(nd); err != nil {
			return nil, false, err
		}
		return next, touched["roles"], nil
	}, &u)
	if err != nil {
		return err
	}
	return h.writeUser(w, r, u, http.StatusOK)
}

// maxUpdateAttempts bounds the retries of an update whose user changed between its read and
// its write. Each round of a conflict has a winner (the compare-and-swap fails only because
// another write of the user committed), so this many unconditional writers of one user at
// once all succeed; identity providers send one user's changes one at a time.
const maxUpdateAttempts = 64

// updateUser runs a replace or a patch. The user is read and the new resource computed
// outside the write transaction, which on SQLite is one writer for every request: the
// transaction only provisions the member and compare-and-swaps the user on the version that
// was read. When another write got there first, an unconditional request starts again from
// the newer version; one with If-Match answers 412, as it would have had it arrived later.
func (h *Handler) updateUser(r *http.Request, dir *roster.Directory, actor roster.Actor, ifv int64,
	compute func(cur *roster.SCIMUser) (next *roster.SCIMUser, sentRoles bool, err error), out **roster.SCIMUser) error {
	ctx := r.Context()
	id := r.PathValue("id")
	memberMoved := false
	for attempt := 1; ; attempt++ {
		cur, err := h.Store.GetSCIMUser(ctx, dir.OrgID, dir.ID, id)
		if err != nil {
			return err
		}
		if ifv != 0 && cur.Version != ifv {
			return roster.E(roster.Stale, "user was modified: its version is %s", etag(cur.Version))
		}
		next, sentRoles, err := compute(cur)
		if err != nil {
			return err
		}
		// The member is read here too, for the transaction to compare-and-swap it; after it
		// moved in between, the transaction reads it itself, so that a member changing
		// all the time cannot hold the update off.
		var member *roster.Member
		if cur.MemberID != "" && !memberMoved {
			if member, err = h.Store.GetMember(ctx, dir.OrgID, cur.MemberID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		err = h.Store.Tx(ctx, actor, func(tx store.Tx) error {
			if err := syncMember(ctx, tx, dir, next, sentRoles, member); err != nil {
				return err
			}
			return tx.UpdateSCIMUser(ctx, cur, next)
		})
		// The member moving is no conflict of the request's own: read both again. The user
		// moving is one for a request with If-Match.
		memberMoved = errors.Is(err, store.ErrMemberChanged)
		if errors.Is(err, store.ErrStale) && (ifv == 0 || memberMoved) && attempt < maxUpdateAttempts {
			continue
		}
		if err == nil {
			*out = next
		}
		return err
	}
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

// memberEmail is the email of u's member: its primary email, else its userName.
func memberEmail(u *roster.SCIMUser) string {
	if e := roster.NormalizeEmail(u.Email); e != "" {
		return e
	}
	return roster.NormalizeEmail(u.UserName)
}

// memberName is the name of u's member: its displayName, else given and family names.
func memberName(u *roster.SCIMUser) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

func memberStatus(u *roster.SCIMUser) roster.MemberStatus {
	if !u.Active {
		return roster.MemberSuspended
	}
	return roster.MemberActive
}

// provisionedRole is the org role u's roles give, else the directory's default role
// (roster.ProvisionedOrgRole, for a user in no mapped group; mappedRole adds the groups).
func provisionedRole(dir *roster.Directory, u *roster.SCIMUser) roster.Role {
	return roster.ProvisionedOrgRole(dir.DefaultRole, u.Roles, nil)
}

// syncMember provisions u into the organization (DESIGN.md section 5): it links or creates
// the member, mirrors email, name and active, and applies the role rules. read, when set, is
// u's member as read before the transaction, which UpdateMember compare-and-swaps.
func syncMember(ctx context.Context, tx store.Tx, dir *roster.Directory, u *roster.SCIMUser, sentRoles bool, read *roster.Member) error {
	email, name, status := memberEmail(u), memberName(u), memberStatus(u)
	if u.MemberID != "" {
		m, err := read, error(nil)
		if m == nil || m.ID != u.MemberID {
			m, err = tx.GetMember(ctx, dir.OrgID, u.MemberID)
		}
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
				role, err := mappedRole(ctx, tx, dir, u)
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
	role := provisionedRole(dir, u)
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
	return nil
}

// roleFromValues reads an org role from SCIM roles values (roster.RoleFromValues).
func roleFromValues(values []string) (roster.Role, bool) { return roster.RoleFromValues(values) }
