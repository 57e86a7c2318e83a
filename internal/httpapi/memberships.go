package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Memberships of the organization and of its projects (the Langfuse organization API). A
// membership's userId is the member's id; the org API may also name a member by email,
// which creates the member when the organization has none with that address.

type membershipBody struct {
	UserID string `json:"userId"`
	Email  string `json:"email"`
	Role   string `json:"role"`
}

// orgMemberships answers GET /api/public/organizations/memberships.
func (s *server) orgMemberships(w http.ResponseWriter, r *http.Request) error {
	lp, err := parsePaging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	rows, next, err := s.Store.ListMembers(r.Context(), p.OrgID, lp.page)
	if err != nil {
		return err
	}
	out := make([]Membership, len(rows))
	for i := range rows {
		out[i] = NewMembership(&rows[i], rows[i].Role)
	}
	body := map[string]any{"memberships": out}
	if err := lp.decorate(body, next, func() (int, error) { return s.Store.CountMembers(r.Context(), p.OrgID) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// findOrCreate reads the member a request names, creating it with role for an unknown email.
func findOrCreate(r *http.Request, tx store.Tx, orgID string, b membershipBody, role roster.Role) (m *roster.Member, created bool, err error) {
	switch {
	case b.UserID != "":
		if !roster.ValidID(b.UserID) {
			return nil, false, roster.E(roster.NotFound, "user %s is not a member of this organization", b.UserID)
		}
		m, err = tx.GetMember(r.Context(), orgID, b.UserID)
		if err == nil && m.Status == roster.MemberDeleted {
			err = store.ErrNotFound
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, roster.E(roster.NotFound, "user %s is not a member of this organization", b.UserID)
		}
		return m, false, err
	case strings.TrimSpace(b.Email) != "":
		m, err = tx.GetMemberByEmail(r.Context(), orgID, b.Email)
		if errors.Is(err, store.ErrNotFound) {
			m = &roster.Member{OrgID: orgID, Email: b.Email, Role: role}
			if err := checkEmail(b.Email); err != nil {
				return nil, false, err
			}
			return m, true, tx.CreateMember(r.Context(), m)
		}
		return m, false, err
	}
	return nil, false, roster.E(roster.Invalid, "userId (or email) is required")
}

func checkEmail(e string) error {
	e = strings.TrimSpace(e)
	if len(e) > 320 || !strings.Contains(e, "@") || strings.ContainsAny(e, " \t\r\n") {
		return roster.E(roster.Invalid, "email %q is not an email address", e)
	}
	return nil
}

// putOrgMembership answers PUT /api/public/organizations/memberships {userId, role}.
func (s *server) putOrgMembership(w http.ResponseWriter, r *http.Request) error {
	var body membershipBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	role, err := roster.ParseRole(body.Role)
	if err != nil {
		return err
	}
	p := principal(r)
	var out Membership
	err = s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		m, created, err := findOrCreate(r, tx, p.OrgID, body, role)
		if err != nil {
			return err
		}
		out = NewMembership(m, role)
		if created {
			return nil
		}
		return tx.SetOrgRoles(r.Context(), p.OrgID, []store.RoleChange{{Before: m, Role: role}})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteOrgMembership answers DELETE /api/public/organizations/memberships {userId}: the
// member leaves the organization and its projects.
func (s *server) deleteOrgMembership(w http.ResponseWriter, r *http.Request) error {
	var body membershipBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.UserID == "" {
		return roster.E(roster.Invalid, "userId is required")
	}
	p := principal(r)
	err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		m, _, err := findOrCreate(r, tx, p.OrgID, membershipBody{UserID: body.UserID}, roster.RoleNone)
		if err != nil {
			return err
		}
		return tx.DeleteMember(r.Context(), p.OrgID, m.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MembershipDeleted{Message: "membership deleted", UserID: body.UserID})
	return nil
}

// memberAccess answers GET /api/public/organizations/memberships/{email}: what one member
// can reach, with effective roles (roster.EffectiveProjectRole).
func (s *server) memberAccess(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	// PathValue is already unescaped: "ada%40example.com" arrives as "ada@example.com".
	m, err := s.Store.GetMemberByEmail(r.Context(), p.OrgID, r.PathValue("email"))
	if err != nil {
		return err
	}
	memberships, err := s.Store.MemberProjects(r.Context(), p.OrgID, m.ID)
	if err != nil {
		return err
	}
	own := make(map[string]roster.Role, len(memberships))
	for _, pm := range memberships {
		own[pm.ProjectID] = pm.Role
	}
	projects, _, err := s.Store.ListProjects(r.Context(), p.OrgID, store.ListPage{})
	if err != nil {
		return err
	}
	out := MemberAccess{UserID: m.ID, Email: m.Email, Name: m.Name, Status: m.Status,
		OrgRole: roster.EffectiveOrgRole(m.Status, m.Role), Projects: []ProjectAccess{}}
	for _, pr := range projects {
		pRole, has := own[pr.ID]
		role, inherited := roster.EffectiveProjectRole(m.Status, m.Role, pRole, has)
		if role == roster.RoleNone {
			continue
		}
		out.Projects = append(out.Projects, ProjectAccess{ProjectID: pr.ID, Name: pr.Name, Role: role, InheritedFromOrgRole: inherited})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxBulk bounds one bulk request.
const maxBulk = 10000

// bulkResult is one user's line of a bulk answer.
type bulkResult struct {
	Index        int          `json:"index"`
	UserID       string       `json:"userId"`
	Email        string       `json:"email"`
	Role         roster.Role  `json:"role"`
	PreviousRole *roster.Role `json:"previousRole"`
	// Result is created, updated or unchanged; failed (with error) when the request is
	// refused, in which case nothing was applied.
	Result string     `json:"result"`
	Error  *bulkError `json:"error,omitempty"`
}

type bulkError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// bulkFailed is the error answer of a bulk request: the usual error, and every line.
type bulkFailed struct {
	apiError
	Memberships []bulkResult `json:"memberships"`
}

// bulkMemberships answers POST /api/public/organizations/memberships/bulk: many org roles
// changed in one transaction, all or nothing, reported per user.
func (s *server) bulkMemberships(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Memberships []membershipBody `json:"memberships"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	n := len(body.Memberships)
	if n == 0 || n > maxBulk {
		return roster.E(roster.Invalid, "memberships must hold 1 to %d entries", maxBulk)
	}
	results := make([]bulkResult, n)
	roles := make([]roster.Role, n)
	var failed bool
	fail := func(i int, err error) {
		failed = true
		results[i].Result = "failed"
		results[i].Error = &bulkError{Code: roster.KindOf(err).String(), Message: roster.MessageOf(err)}
	}
	seen := make(map[string]int, n)
	var ids, emails []string
	for i, m := range body.Memberships {
		results[i] = bulkResult{Index: i, UserID: m.UserID, Email: roster.NormalizeEmail(m.Email)}
		role, err := roster.ParseRole(m.Role)
		if err != nil {
			fail(i, err)
			continue
		}
		roles[i], results[i].Role = role, role
		key := ""
		switch {
		case m.UserID != "" && m.Email != "":
			fail(i, roster.E(roster.Invalid, "send userId or email, not both"))
			continue
		case m.UserID != "":
			key = "id:" + m.UserID
			ids = append(ids, m.UserID)
		case m.Email != "":
			if err := checkEmail(m.Email); err != nil {
				fail(i, err)
				continue
			}
			key = "email:" + results[i].Email
			emails = append(emails, results[i].Email)
		default:
			fail(i, roster.E(roster.Invalid, "userId or email is required"))
			continue
		}
		if j, dup := seen[key]; dup {
			fail(i, roster.E(roster.Invalid, "the same user is also entry %d", j))
			continue
		}
		seen[key] = i
	}
	p := principal(r)
	var applyErr error
	if !failed {
		applyErr = s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
			byID, err := tx.MembersByID(r.Context(), p.OrgID, ids)
			if err != nil {
				return err
			}
			byEmail, err := tx.MembersByEmail(r.Context(), p.OrgID, emails)
			if err != nil {
				return err
			}
			changes := make([]store.RoleChange, 0, n)
			byMember := make(map[string]int, n)
			for i, e := range body.Memberships {
				res := &results[i]
				var m *roster.Member
				if e.UserID != "" {
					if m = byID[e.UserID]; m == nil {
						fail(i, roster.E(roster.NotFound, "user %s is not a member of this organization", e.UserID))
						continue
					}
				} else if m = byEmail[res.Email]; m == nil {
					m = &roster.Member{OrgID: p.OrgID, Email: res.Email, Role: roles[i]}
					if err := tx.CreateMember(r.Context(), m); err != nil {
						return err
					}
					res.UserID, res.Email, res.Result = m.ID, m.Email, "created"
					continue
				}
				if j, dup := byMember[m.ID]; dup {
					fail(i, roster.E(roster.Invalid, "the same user is also entry %d", j))
					continue
				}
				byMember[m.ID] = i
				prev := m.Role
				res.UserID, res.Email, res.PreviousRole = m.ID, m.Email, &prev
				res.Result = "unchanged"
				if prev != roles[i] {
					res.Result = "updated"
					changes = append(changes, store.RoleChange{Before: m, Role: roles[i]})
				}
			}
			if failed {
				return roster.E(roster.NotFound, "some entries name no member of this organization, or one twice: nothing was changed")
			}
			return tx.SetOrgRoles(r.Context(), p.OrgID, changes)
		})
	}
	if failed || applyErr != nil {
		err := applyErr
		if err == nil {
			err = roster.E(roster.Invalid, "some entries are invalid: nothing was changed")
		}
		k := roster.KindOf(err)
		if k == roster.Internal {
			return err
		}
		if errors.Is(err, roster.ErrLastOwner) {
			for i := range results {
				if results[i].PreviousRole != nil && *results[i].PreviousRole == roster.RoleOwner && results[i].Role != roster.RoleOwner {
					fail(i, err)
				}
			}
		}
		for i := range results {
			if results[i].Error == nil {
				results[i].Result = "not_applied"
			}
		}
		var out bulkFailed
		out.Error.Code, out.Error.Message = k.String(), roster.MessageOf(err)
		out.Memberships = results
		writeJSON(w, k.HTTPStatus(), out)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"memberships": results})
	return nil
}

// Project memberships.

func (s *server) projectMemberships(w http.ResponseWriter, r *http.Request) error {
	lp, err := parsePaging(r)
	if err != nil {
		return err
	}
	p := principal(r)
	id := r.PathValue("projectId")
	if _, err := s.Store.GetProject(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	rows, next, err := s.Store.ListProjectMembers(r.Context(), p.OrgID, id, lp.page)
	if err != nil {
		return err
	}
	out := make([]Membership, len(rows))
	for i := range rows {
		out[i] = NewMembership(&rows[i].Member, rows[i].ProjectRole)
	}
	body := map[string]any{"memberships": out}
	if err := lp.decorate(body, next, func() (int, error) { return s.Store.CountProjectMembers(r.Context(), p.OrgID, id) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// putProjectMembership answers PUT /api/public/projects/{projectId}/memberships {userId,
// role}: the member must belong to the organization.
func (s *server) putProjectMembership(w http.ResponseWriter, r *http.Request) error {
	var body membershipBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	role, err := roster.ParseProjectRole(body.Role)
	if err != nil {
		return err
	}
	if body.UserID == "" {
		return roster.E(roster.Invalid, "userId is required")
	}
	p := principal(r)
	id := r.PathValue("projectId")
	var out Membership
	err = s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		if _, err := tx.GetProject(r.Context(), p.OrgID, id); err != nil {
			return err
		}
		m, _, err := findOrCreate(r, tx, p.OrgID, membershipBody{UserID: body.UserID}, roster.RoleNone)
		if roster.KindOf(err) == roster.NotFound {
			return roster.E(roster.NotFound, "user %s is not a member of this organization: a project membership requires an organization membership", body.UserID)
		}
		if err != nil {
			return err
		}
		before, err := tx.GetProjectMembership(r.Context(), p.OrgID, id, m.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.SetProjectRoles(r.Context(), p.OrgID, []store.ProjectRoleChange{{ProjectID: id, Member: m, Before: before, Role: role, Source: roster.SourceAPI}}); err != nil {
			return err
		}
		out = NewMembership(m, role)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) deleteProjectMembership(w http.ResponseWriter, r *http.Request) error {
	var body membershipBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.UserID == "" {
		return roster.E(roster.Invalid, "userId is required")
	}
	p := principal(r)
	id := r.PathValue("projectId")
	err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		if _, err := tx.GetProject(r.Context(), p.OrgID, id); err != nil {
			return err
		}
		m, _, err := findOrCreate(r, tx, p.OrgID, membershipBody{UserID: body.UserID}, roster.RoleNone)
		if err != nil {
			return err
		}
		before, err := tx.GetProjectMembership(r.Context(), p.OrgID, id, m.ID)
		if err != nil {
			return err
		}
		return tx.SetProjectRoles(r.Context(), p.OrgID, []store.ProjectRoleChange{{ProjectID: id, Member: m, Before: before, Delete: true}})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MembershipDeleted{Message: "project membership deleted", UserID: body.UserID})
	return nil
}
