package httpapi

import (
	"encoding/json"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// The organization API's bodies, in the shapes of the Langfuse public API (DESIGN.md
// section 2) so that its official clients work unchanged: camelCase, RFC 3339 times, roles
// as OWNER, ADMIN, MEMBER, VIEWER or NONE.

// OrgRef is the organization a project belongs to.
type OrgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Project is a project as every route answers it. Metadata is an object, {} when unset:
// Langfuse's clients declare it required.
type Project struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Metadata     json.RawMessage `json:"metadata"`
	Organization OrgRef          `json:"organization"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
}

// NewProject shapes a project of org.
func NewProject(p *roster.Project, org *roster.Organization) Project {
	meta := p.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return Project{ID: p.ID, Name: p.Name, Metadata: meta, Organization: OrgRef{ID: org.ID, Name: org.Name},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// Membership is an organization or project membership: the member and its role there.
type Membership struct {
	UserID string              `json:"userId"`
	Role   roster.Role         `json:"role"`
	Email  string              `json:"email"`
	Name   string              `json:"name"`
	Status roster.MemberStatus `json:"status"`
}

// NewMembership shapes a member with a role.
func NewMembership(m *roster.Member, role roster.Role) Membership {
	return Membership{UserID: m.ID, Role: role, Email: m.Email, Name: m.Name, Status: m.Status}
}

// MembershipDeleted answers a membership DELETE.
type MembershipDeleted struct {
	Message string `json:"message"`
	UserID  string `json:"userId"`
}

// ProjectAccess is one project a member can reach, in the access summary.
type ProjectAccess struct {
	ProjectID            string      `json:"projectId"`
	Name                 string      `json:"name"`
	Role                 roster.Role `json:"role"`
	InheritedFromOrgRole bool        `json:"inheritedFromOrgRole"`
}

// MemberAccess is who a member is and what it can reach: effective roles, so a suspended
// member shows NONE and no projects.
type MemberAccess struct {
	UserID   string              `json:"userId"`
	Email    string              `json:"email"`
	Name     string              `json:"name"`
	OrgRole  roster.Role         `json:"orgRole"`
	Status   roster.MemberStatus `json:"status"`
	Projects []ProjectAccess     `json:"projects"`
}

// PageMeta is the page-number paging of a listing (Langfuse's meta object).
type PageMeta struct {
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	TotalItems int `json:"totalItems"`
	TotalPages int `json:"totalPages"`
}

// KeyVerified answers POST /api/admin/apiKeys/verify.
type KeyVerified struct {
	Valid     bool       `json:"valid"`
	KeyID     *string    `json:"keyId"`
	ProjectID *string    `json:"projectId"`
	OrgID     *string    `json:"orgId"`
	ExpiresAt *time.Time `json:"expiresAt"`
}
