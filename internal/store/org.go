package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// ListPage asks for a page of a listing ordered by id: after the keyset cursor After (the
// last id of the previous page), or skipping Offset rows (page-number paging); Limit 0 or
// less asks for every row.
type ListPage struct {
	After  string
	Offset int
	Limit  int
}

// OrgReader reads the organization API's resources: projects, project keys, memberships
// and the group-to-role mappings of directories. Every method is scoped by organization.
type OrgReader interface {
	GetProject(ctx context.Context, orgID, projectID string) (*roster.Project, error)
	// ListProjects answers a page of projects in id (creation) order and the cursor of the
	// next page ("" after the last).
	ListProjects(ctx context.Context, orgID string, p ListPage) ([]roster.Project, string, error)
	CountProjects(ctx context.Context, orgID string) (int, error)

	GetProjectKey(ctx context.Context, orgID, projectID, keyID string) (*roster.APIKey, error)
	ListProjectKeys(ctx context.Context, orgID, projectID string) ([]roster.APIKey, error)
	// LookupProjectKey finds a project key by its public half, across organizations. The
	// caller compares the secret hash in constant time.
	LookupProjectKey(ctx context.Context, publicKey string) (*roster.APIKey, error)

	// ListMembers answers a page of the organization's live (not deleted) members with their
	// org roles, in id order, and the next cursor.
	ListMembers(ctx context.Context, orgID string, p ListPage) ([]roster.Member, string, error)
	CountMembers(ctx context.Context, orgID string) (int, error)
	// MembersByID and MembersByEmail read live members in bulk, keyed by id and by
	// normalized email.
	MembersByID(ctx context.Context, orgID string, ids []string) (map[string]*roster.Member, error)
	MembersByEmail(ctx context.Context, orgID string, emails []string) (map[string]*roster.Member, error)

	GetProjectMembership(ctx context.Context, orgID, projectID, memberID string) (*roster.ProjectMembership, error)
	ListProjectMembers(ctx context.Context, orgID, projectID string, p ListPage) ([]roster.ProjectMember, string, error)
	CountProjectMembers(ctx context.Context, orgID, projectID string) (int, error)
	// MemberProjects lists a member's project memberships.
	MemberProjects(ctx context.Context, orgID, memberID string) ([]roster.ProjectMembership, error)

	// ListGroupMappings lists a directory's group-to-role mappings with their groups' names.
	ListGroupMappings(ctx context.Context, orgID, dirID string) ([]roster.GroupRoleMapping, error)
	// ProvisionInputs reads what the role rules need of SCIM users of a directory: each one's
	// member, roles value, mapped groups and project memberships. Users without a live member
	// are left out.
	ProvisionInputs(ctx context.Context, orgID, dirID string, scimUserIDs []string) ([]ProvisionInput, error)
	// GroupUserIDs lists the ids of a group's direct members of type User.
	GroupUserIDs(ctx context.Context, orgID, dirID, groupID string) ([]string, error)
}

// ProvisionInput is one SCIM user as the role rules see it.
type ProvisionInput struct {
	SCIMUserID string
	Member     roster.Member
	Roles      []string
	// Groups are the user's groups that some mapping of the directory names.
	Groups   []string
	Projects []roster.ProjectMembership
}

// RoleChange sets Before's organization role to Role. Before is the member as read in the
// same transaction.
type RoleChange struct {
	Before *roster.Member
	Role   roster.Role
}

// ProjectRoleChange sets (or with Delete, removes) a project membership.
type ProjectRoleChange struct {
	ProjectID string
	Member    *roster.Member
	// Before is the membership as read in the transaction, nil for none.
	Before *roster.ProjectMembership
	Role   roster.Role
	Source string
	Delete bool
}

// OrgWriter changes the organization API's resources; each write records its audit entry.
type OrgWriter interface {
	CreateProject(ctx context.Context, p *roster.Project) error
	UpdateProject(ctx context.Context, p *roster.Project) error
	// DeleteProject deletes a project with its keys, memberships and group mappings.
	DeleteProject(ctx context.Context, orgID, projectID string) error

	CreateProjectKey(ctx context.Context, k *roster.APIKey) error
	DeleteProjectKey(ctx context.Context, orgID, projectID, keyID string) error
	// ExpireProjectKey makes a key expire at at, unless it already expires sooner (the old
	// key of a rotation).
	ExpireProjectKey(ctx context.Context, orgID, projectID, keyID string, at time.Time) error

	// SetOrgRoles changes many organization roles at once, each with its audit record. It
	// refuses (Conflict, wrapping roster.ErrLastOwner) a batch that leaves no OWNER.
	SetOrgRoles(ctx context.Context, orgID string, changes []RoleChange) error
	// SetProjectRoles writes project memberships, each with its audit record.
	SetProjectRoles(ctx context.Context, orgID string, changes []ProjectRoleChange) error

	// ReplaceGroupMappings makes a directory's mappings exactly ms.
	ReplaceGroupMappings(ctx context.Context, orgID, dirID string, ms []roster.GroupRoleMapping) error
}
