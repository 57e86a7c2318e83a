package store

import (
	"context"

	"github.com/rosterhq/roster/internal/roster"
)

// SCIMReader reads SCIM resources and organization members. Every method is scoped by
// organization and, for SCIM resources, by directory: a token sees only its directory.
type SCIMReader interface {
	// GetSCIMUser reads a user with its groups.
	GetSCIMUser(ctx context.Context, orgID, dirID, id string) (*roster.SCIMUser, error)
	// FindSCIMUser finds a directory's user by userName (case-insensitive) when userName is
	// not empty, else by externalId (a deactivated match first: externalId is not unique).
	// Given both, it finds the user with that userName, else a deactivated user with that
	// externalId.
	FindSCIMUser(ctx context.Context, orgID, dirID, userName, externalID string) (*roster.SCIMUser, error)
	// ListSCIMUsers reads a page of users, each with its groups.
	ListSCIMUsers(ctx context.Context, orgID, dirID string, q Query) (users []roster.SCIMUser, total int, err error)
	// UserGroups returns, for each user id, the groups it is a direct member of.
	UserGroups(ctx context.Context, orgID, dirID string, userIDs []string) (map[string][]roster.GroupRef, error)

	GetSCIMGroup(ctx context.Context, orgID, dirID, id string) (*roster.SCIMGroup, error)
	ListSCIMGroups(ctx context.Context, orgID, dirID string, q Query) (groups []roster.SCIMGroup, total int, err error)
	// GroupMembers lists a group's members with their display names.
	GroupMembers(ctx context.Context, orgID, dirID, groupID string) ([]roster.GroupMember, error)

	GetMember(ctx context.Context, orgID, memberID string) (*roster.Member, error)
	// IsNewSCIMPerson tells, in one read, that a directory has no user with this userName,
	// no deactivated user with this externalId (when it is not empty), and that the
	// organization has no live member with this email: a create that links nothing.
	IsNewSCIMPerson(ctx context.Context, orgID, dirID, userName, externalID, email string) (bool, error)
	// GetMemberByEmail finds a live (not deleted) member by normalized email.
	GetMemberByEmail(ctx context.Context, orgID, email string) (*roster.Member, error)
}

// SCIMWriter changes SCIM resources and members. Each write records its audit entry.
// ifVersion, where taken, is the compare-and-swap of If-Match: 0 means unconditional, and a
// mismatch answers ErrStale without writing.
type SCIMWriter interface {
	// RequireNewSCIMPerson fails the transaction with ErrConflict unless IsNewSCIMPerson
	// holds. Where writes are pipelined (Store.WritesPipelined), the check travels with the
	// transaction's writes and its conflict is returned by Tx, not by this call.
	RequireNewSCIMPerson(ctx context.Context, orgID, dirID, userName, externalID, email string) error
	CreateSCIMUser(ctx context.Context, u *roster.SCIMUser) error
	// UpdateSCIMUser writes next over cur, the version the caller read in this transaction:
	// compare-and-swap on cur.Version, so a concurrent write in between answers ErrStale.
	UpdateSCIMUser(ctx context.Context, cur, next *roster.SCIMUser) error
	DeleteSCIMUser(ctx context.Context, orgID, dirID, id string, ifVersion int64) (*roster.SCIMUser, error)

	// CreateSCIMGroup creates a group with its initial members. Member ids that are not a
	// user or group of the directory are skipped (as in AddGroupMembers).
	CreateSCIMGroup(ctx context.Context, g *roster.SCIMGroup, members []roster.GroupMember) error
	// UpdateSCIMGroup writes the group's attributes (not its members) and bumps its version.
	UpdateSCIMGroup(ctx context.Context, g *roster.SCIMGroup, ifVersion int64) error
	// AddGroupMembers adds members that are not yet there (adding a present one is a no-op,
	// as identity providers resend them; an id that is not a user or group of the directory
	// is skipped, so nothing dangling is stored); RemoveGroupMembers removes the given ids; with
	// all set, it removes every member. Neither touches the other rows of the group. Both
	// return how many rows changed; the caller bumps the version with TouchSCIMGroup.
	AddGroupMembers(ctx context.Context, orgID, dirID, groupID string, members []roster.GroupMember) (int, error)
	RemoveGroupMembers(ctx context.Context, orgID, dirID, groupID string, ids []string, all bool) (int, error)
	// TouchSCIMGroup bumps a group's version and lastModified, compare-and-swap on ifVersion.
	TouchSCIMGroup(ctx context.Context, orgID, dirID, groupID string, ifVersion int64) (*roster.SCIMGroup, error)
	DeleteSCIMGroup(ctx context.Context, orgID, dirID, id string, ifVersion int64) error

	CreateMember(ctx context.Context, m *roster.Member) error
	// UpdateMember writes a member's email, name and status over cur, the member as the
	// caller read it; nothing is written when nothing changed. It is a compare-and-swap on
	// cur (email, name, status and role): a member changed since is ErrMemberChanged.
	UpdateMember(ctx context.Context, cur, next *roster.Member) error
	// SetOrgRole sets a member's organization role.
	SetOrgRole(ctx context.Context, orgID, memberID string, role roster.Role) error
	// DeleteMember removes the org membership and soft-deletes the member, obfuscating its
	// email so the address can be used again.
	DeleteMember(ctx context.Context, orgID, memberID string) error
}
