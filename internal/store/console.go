package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// ConsoleReader reads what the admin console needs beyond the organization API: members'
// sign-in credentials, one-time links and the members listing with its filters.
type ConsoleReader interface {
	// LoginMembers finds, across organizations, the live members with this (normalized)
	// email, each with its organization's name, in organization-name order. Sign-in starts
	// from an email alone: the person then picks one of its organizations.
	LoginMembers(ctx context.Context, email string) ([]LoginMember, error)
	// GetCredentials reads a member's credentials; a member without any answers an empty
	// Credentials (no password), not ErrNotFound.
	GetCredentials(ctx context.Context, orgID, memberID string) (*roster.Credentials, error)
	// SearchMembers answers a page of live members matching f, in id order, each with the
	// directory that provisioned it, and the next cursor.
	SearchMembers(ctx context.Context, orgID string, f MemberFilter) ([]MemberRow, string, error)
	// ListMemberLinks lists the organization's links that are unused and unexpired at now,
	// newest first.
	ListMemberLinks(ctx context.Context, orgID string, now time.Time) ([]roster.MemberLink, error)
	// LookupMemberLink finds a link by the SHA-256 of its token, across organizations (the
	// token names its organization). The caller checks Usable.
	LookupMemberLink(ctx context.Context, hash []byte) (*roster.MemberLink, error)
}

// ConsoleWriter changes members' credentials and links; each write records its audit entry,
// never with a secret in it.
type ConsoleWriter interface {
	// SetPassword sets a member's password hash (argon2id, PHC form).
	SetPassword(ctx context.Context, orgID, memberID, hash string) error
	// SetTOTP stores a member's TOTP seed ciphertext and whether it is required; an empty
	// secret turns two-factor sign-in off.
	SetTOTP(ctx context.Context, orgID, memberID, secretEnc string, enabled bool) error
	// UseTOTPStep records that a code of time step step was accepted, compare-and-swap: it
	// answers ErrStale when a code of this or a later step was already accepted, so that a
	// code works once, even on two replicas at the same moment.
	UseTOTPStep(ctx context.Context, orgID, memberID string, step int64) error
	// CreateMemberLink inserts a link (Hash set by the caller).
	CreateMemberLink(ctx context.Context, l *roster.MemberLink) error
	// UseMemberLink marks a link used, compare-and-swap: ErrStale when it was used already
	// or has expired at now.
	UseMemberLink(ctx context.Context, orgID, linkID string, now time.Time) error
	// RevokeMemberLink deletes an unused link.
	RevokeMemberLink(ctx context.Context, orgID, linkID string) error
	// ExpireOrgKey makes an organization key expire at at, unless it already expires sooner
	// (the old key of a rotation, as ExpireProjectKey).
	ExpireOrgKey(ctx context.Context, orgID, keyID string, at time.Time) error
}

// LoginMember is one membership of a person signing in.
type LoginMember struct {
	Member  roster.Member
	OrgName string
}

// MemberFilter selects members for the console's listing. Empty fields match everything.
type MemberFilter struct {
	// Search matches a substring of the email or the name, case-insensitively.
	Search string
	Role   roster.Role
	Status roster.MemberStatus
	// Source is "scim" (provisioned by a directory) or "manual".
	Source string
	// After is the keyset cursor (the last id of the previous page); Limit caps the page.
	After string
	Limit int
}

// MemberRow is a member as the console lists it.
type MemberRow struct {
	roster.Member
	// DirectoryID and DirectoryName name the SCIM directory that provisioned the member, if
	// any.
	DirectoryID, DirectoryName string
	// ChangedAt is the latest change of the member or of its org role.
	ChangedAt time.Time
}
