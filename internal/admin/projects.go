package admin

import (
	"errors"
	"strconv"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Projects, their members and API keys, and the organization's API keys. Keys are made and
// rotated by auth.Service, as for the organization API: the secret is shown once and only
// its digest is stored.

type projectsPage struct {
	Projects []roster.Project
	Next     string
}

// Projects answers GET /orgs/{orgId}/projects.
func (c *Console) Projects(q *req) error {
	after := q.r.URL.Query().Get("after")
	if !roster.ValidID(after) {
		after = ""
	}
	rows, next, err := c.Store.ListProjects(q.ctx(), q.org.ID, store.ListPage{After: after, Limit: 100})
	if err != nil {
		return err
	}
	return c.show(q, "projects", q.view("projects", "Projects", projectsPage{Projects: rows, Next: next}), "")
}

// CreateProject answers POST /orgs/{orgId}/projects (name).
func (c *Console) CreateProject(q *req) error {
	name, err := roster.CleanName("name", q.r.PostForm.Get("name"))
	if err != nil {
		return err
	}
	p := &roster.Project{OrgID: q.org.ID, Name: name}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error { return tx.CreateProject(q.ctx(), p) }); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects/"+p.ID, "")
}

func (c *Console) project(q *req) (*roster.Project, error) {
	id := q.r.PathValue("projectId")
	if !roster.ValidID(id) {
		return nil, roster.E(roster.NotFound, "no such project")
	}
	return c.Store.GetProject(q.ctx(), q.org.ID, id)
}

// createdKey is a key pair just made, shown once.
type createdKey struct {
	PublicKey, Secret string
}

// keysBlock is the keys table of the API keys and project pages.
type keysBlock struct {
	View    *view
	Keys    []roster.APIKey
	Action  string
	Rotate  bool
	Created *createdKey
}

type projectPage struct {
	Project      *roster.Project
	Members      []roster.ProjectMember
	Keys         *keysBlock
	ProjectRoles []roster.Role
}

func (c *Console) projectView(q *req, created *createdKey) (*view, error) {
	p, err := c.project(q)
	if err != nil {
		return nil, err
	}
	keys, err := c.Store.ListProjectKeys(q.ctx(), q.org.ID, p.ID)
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].LastUsedAt = c.Auth.LastUsed().Overlay(store.ProjectKeyCredential, keys[i].ID, keys[i].LastUsedAt)
	}
	members, _, err := c.Store.ListProjectMembers(q.ctx(), q.org.ID, p.ID, store.ListPage{Limit: 500})
	if err != nil {
		return nil, err
	}
	d := &projectPage{Project: p, Members: members, ProjectRoles: allRoles}
	v := q.view("projects", p.Name, d)
	d.Keys = &keysBlock{View: v, Keys: keys, Action: q.base() + "/projects/" + p.ID + "/keys", Rotate: true, Created: created}
	return v, nil
}

// Project answers GET /orgs/{orgId}/projects/{projectId}.
func (c *Console) Project(q *req) error {
	v, err := c.projectView(q, nil)
	if err != nil {
		return err
	}
	return c.show(q, "project", v, "")
}

// RenameProject answers POST /orgs/{orgId}/projects/{projectId}/rename (name).
func (c *Console) RenameProject(q *req) error {
	name, err := roster.CleanName("name", q.r.PostForm.Get("name"))
	if err != nil {
		return err
	}
	err = c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		cur, err := c.project(q)
		if err != nil {
			return err
		}
		next := *cur
		next.Name = name
		return tx.UpdateProject(q.ctx(), &next)
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects/"+q.r.PathValue("projectId"), "renamed")
}

// DeleteProject answers POST /orgs/{orgId}/projects/{projectId}/delete.
func (c *Console) DeleteProject(q *req) error {
	p, err := c.project(q)
	if err != nil {
		return err
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error { return tx.DeleteProject(q.ctx(), q.org.ID, p.ID) }); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects", "deleted")
}

// SetProjectRole answers POST /orgs/{orgId}/projects/{projectId}/members (email, role): a
// project role for a member of the organization.
func (c *Console) SetProjectRole(q *req) error {
	role, err := roster.ParseProjectRole(q.r.PostForm.Get("role"))
	if err != nil {
		return err
	}
	p, err := c.project(q)
	if err != nil {
		return err
	}
	email := q.r.PostForm.Get("email")
	err = c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		m, err := tx.GetMemberByEmail(q.ctx(), q.org.ID, email)
		if errors.Is(err, store.ErrNotFound) {
			return roster.E(roster.NotFound, "%s is not a member of this organization: invite them first", email)
		}
		if err != nil {
			return err
		}
		before, err := tx.GetProjectMembership(q.ctx(), q.org.ID, p.ID, m.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.SetProjectRoles(q.ctx(), q.org.ID, []store.ProjectRoleChange{{ProjectID: p.ID, Member: m, Before: before, Role: role, Source: roster.SourceAPI}})
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects/"+p.ID, "project")
}

// RemoveProjectMember answers POST /orgs/{orgId}/projects/{projectId}/members/{memberId}/remove.
func (c *Console) RemoveProjectMember(q *req) error {
	p, err := c.project(q)
	if err != nil {
		return err
	}
	err = c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		m, err := c.member(q, tx)
		if err != nil {
			return err
		}
		before, err := tx.GetProjectMembership(q.ctx(), q.org.ID, p.ID, m.ID)
		if err != nil {
			return err
		}
		return tx.SetProjectRoles(q.ctx(), q.org.ID, []store.ProjectRoleChange{{ProjectID: p.ID, Member: m, Before: before, Delete: true}})
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects/"+p.ID, "removed")
}

// CreateProjectKey answers POST /orgs/{orgId}/projects/{projectId}/keys (note).
func (c *Console) CreateProjectKey(q *req) error {
	p, err := c.project(q)
	if err != nil {
		return err
	}
	key, secret, err := c.Auth.CreateProjectKey(q.ctx(), q.actor(), q.org.ID, p.ID, auth.KeyRequest{Note: q.r.PostForm.Get("note")})
	if err != nil {
		return err
	}
	v, err := c.projectView(q, &createdKey{PublicKey: key.PublicKey, Secret: secret})
	if err != nil {
		return err
	}
	return c.show(q, "project", v, q.base()+"/projects/"+p.ID)
}

// graceForm reads graceSeconds (empty: none), bounded as the API bounds it.
func graceForm(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || time.Duration(n)*time.Second > auth.MaxGrace {
		return 0, roster.E(roster.Invalid, "graceSeconds must be a number from 0 to %d", int(auth.MaxGrace/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// RotateProjectKey answers POST /orgs/{orgId}/projects/{projectId}/keys/{keyId}/rotate
// (graceSeconds).
func (c *Console) RotateProjectKey(q *req) error {
	grace, err := graceForm(q.r.PostForm.Get("graceSeconds"))
	if err != nil {
		return err
	}
	p, err := c.project(q)
	if err != nil {
		return err
	}
	key, secret, err := c.Auth.RotateProjectKey(q.ctx(), q.actor(), q.org.ID, p.ID, q.r.PathValue("keyId"), grace)
	if err != nil {
		return err
	}
	v, err := c.projectView(q, &createdKey{PublicKey: key.PublicKey, Secret: secret})
	if err != nil {
		return err
	}
	return c.show(q, "project", v, q.base()+"/projects/"+p.ID)
}

// RevokeProjectKey answers POST /orgs/{orgId}/projects/{projectId}/keys/{keyId}/revoke.
func (c *Console) RevokeProjectKey(q *req) error {
	p, err := c.project(q)
	if err != nil {
		return err
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		return tx.DeleteProjectKey(q.ctx(), q.org.ID, p.ID, q.r.PathValue("keyId"))
	}); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/projects/"+p.ID, "revoked")
}

func (c *Console) orgKeysView(q *req, created *createdKey) (*view, error) {
	keys, err := c.Store.ListOrgKeys(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i].LastUsedAt = c.Auth.LastUsed().Overlay(store.OrgKeyCredential, keys[i].ID, keys[i].LastUsedAt)
	}
	b := &keysBlock{Keys: keys, Action: q.base() + "/api-keys", Rotate: true, Created: created}
	v := q.view("api-keys", "API keys", b)
	b.View = v
	return v, nil
}

// APIKeys answers GET /orgs/{orgId}/api-keys.
func (c *Console) APIKeys(q *req) error {
	v, err := c.orgKeysView(q, nil)
	if err != nil {
		return err
	}
	return c.show(q, "apikeys", v, "")
}

// CreateOrgKey answers POST /orgs/{orgId}/api-keys (note).
func (c *Console) CreateOrgKey(q *req) error {
	key, secret, err := c.Auth.CreateOrgKeyFrom(q.ctx(), q.actor(), q.org.ID, auth.KeyRequest{Note: q.r.PostForm.Get("note")})
	if err != nil {
		return err
	}
	v, err := c.orgKeysView(q, &createdKey{PublicKey: key.PublicKey, Secret: secret})
	if err != nil {
		return err
	}
	return c.show(q, "apikeys", v, q.base()+"/api-keys")
}

// RotateOrgKey answers POST /orgs/{orgId}/api-keys/{keyId}/rotate (graceSeconds).
func (c *Console) RotateOrgKey(q *req) error {
	grace, err := graceForm(q.r.PostForm.Get("graceSeconds"))
	if err != nil {
		return err
	}
	key, secret, err := c.Auth.RotateOrgKey(q.ctx(), q.actor(), q.org.ID, q.r.PathValue("keyId"), grace)
	if err != nil {
		return err
	}
	v, err := c.orgKeysView(q, &createdKey{PublicKey: key.PublicKey, Secret: secret})
	if err != nil {
		return err
	}
	return c.show(q, "apikeys", v, q.base()+"/api-keys")
}

// RevokeOrgKey answers POST /orgs/{orgId}/api-keys/{keyId}/revoke.
func (c *Console) RevokeOrgKey(q *req) error {
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		return tx.DeleteOrgKey(q.ctx(), q.org.ID, q.r.PathValue("keyId"))
	}); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/api-keys", "revoked")
}
