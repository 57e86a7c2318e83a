package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// Sentinel errors. They are bare roster kinds, so errors.Is(err, ErrNotFound) holds for any
// NotFound error, whatever its message.
var (
	ErrNotFound = &roster.Error{Kind: roster.NotFound}
	ErrConflict = &roster.Error{Kind: roster.Conflict}
	ErrStale    = &roster.Error{Kind: roster.Stale}
	// ErrMemberChanged is UpdateMember's refusal when the member is no longer as the caller
	// read it (its email, name, status or role moved): a Stale error, which errors.Is also
	// tells apart from the others.
	ErrMemberChanged = roster.E(roster.Stale, "the member changed since it was read")
)

// Reader is what can be read, inside or outside a transaction.
type Reader interface {
	GetOrganization(ctx context.Context, orgID string) (*roster.Organization, error)
	ListOrganizations(ctx context.Context, page Page) ([]roster.Organization, string, error)

	GetOrgKey(ctx context.Context, orgID, keyID string) (*roster.APIKey, error)
	ListOrgKeys(ctx context.Context, orgID string) ([]roster.APIKey, error)
	// LookupOrgKey finds a key by its public half, across organizations: the key names its
	// organization. The caller compares the secret hash in constant time.
	LookupOrgKey(ctx context.Context, publicKey string) (*roster.APIKey, error)

	GetDirectory(ctx context.Context, orgID, dirID string) (*roster.Directory, error)
	ListDirectories(ctx context.Context, orgID string) ([]roster.Directory, error)
	// DefaultDirectory returns the organization's default directory (the one org-key Basic
	// auth acts on), or ErrNotFound.
	DefaultDirectory(ctx context.Context, orgID string) (*roster.Directory, error)
	// LookupDirectoryToken finds a live (not yet expired at now) token by the SHA-256 of its
	// value, with its directory. The caller compares hashes in constant time.
	LookupDirectoryToken(ctx context.Context, hash []byte, now time.Time) (*roster.DirectoryToken, *roster.Directory, error)

	ListAudit(ctx context.Context, orgID string, f AuditFilter) ([]roster.AuditRecord, string, error)
	EventReader

	SCIMReader
	OrgReader
	OAuthReader
	ConsoleReader
	SessionReader
	SSOReader
	// ListSCIMRequests returns a directory's newest logged requests first.
	ListSCIMRequests(ctx context.Context, orgID, dirID string, limit int) ([]roster.SCIMRequest, error)
}

// Tx is one transaction. Every write method records its audit entry, with the actor the
// transaction was opened for, in the same transaction: the change and its record commit
// together or not at all.
type Tx interface {
	Reader

	CreateOrganization(ctx context.Context, org *roster.Organization) error
	UpdateOrganization(ctx context.Context, org *roster.Organization) error
	DeleteOrganization(ctx context.Context, orgID string) error

	CreateOrgKey(ctx context.Context, key *roster.APIKey) error
	DeleteOrgKey(ctx context.Context, orgID, keyID string) error

	// CreateDirectory inserts a directory with its first token (nil for none: the default
	// directory that org-key Basic auth creates on first use has no bearer token until an
	// admin asks for one).
	CreateDirectory(ctx context.Context, dir *roster.Directory, tok *roster.DirectoryToken) error
	UpdateDirectory(ctx context.Context, dir *roster.Directory) error
	DeleteDirectory(ctx context.Context, orgID, dirID string) error
	// RotateDirectoryToken adds tok to its directory and makes every older token of that
	// directory expire at oldExpireAt (now for an immediate revocation, later for a grace
	// period; a token that already expires sooner keeps its earlier expiry).
	RotateDirectoryToken(ctx context.Context, tok *roster.DirectoryToken, oldExpireAt time.Time) error

	SCIMWriter
	WebhookWriter
	OrgWriter
	OAuthWriter
	ConsoleWriter
	SessionWriter
	SSOWriter
}

// Store is a Roster database. Its Reader methods read outside any transaction.
type Store interface {
	Reader
	// Tx runs fn in one transaction on behalf of actor, committing if fn returns nil and
	// rolling back otherwise.
	Tx(ctx context.Context, actor roster.Actor, fn func(Tx) error) error
	// TouchLastUsed records when credentials were last used. It is called in batches by a
	// coalescer, not per request, and never moves a timestamp backwards.
	TouchLastUsed(ctx context.Context, uses []Use) error
	// ExpiringCredentials lists credentials, across organizations, that expire before the
	// given time and have not expired before now.
	ExpiringCredentials(ctx context.Context, now, before time.Time) ([]Expiring, error)
	// AppendSCIMRequests writes a batch of SCIM request-log entries, keeping the newest of
	// each directory.
	AppendSCIMRequests(ctx context.Context, entries []roster.SCIMRequest) error
	Outbox
	// WritesPipelined reports that a transaction's writes go to the database together
	// (PostgreSQL), so that a check queued with them (RequireNewSCIMPerson) costs no round
	// trip of its own; otherwise a check is cheaper on a reader before the transaction.
	WritesPipelined() bool
	OAuthMaintenance
	SessionKeeper
	SSOKeeper
	Ping(ctx context.Context) error
	Close() error
}

// CredentialKind names a credential table for TouchLastUsed and ExpiringCredentials.
type CredentialKind string

// The credential kinds.
const (
	OrgKeyCredential         CredentialKind = "org_key"
	DirectoryTokenCredential CredentialKind = "scim_token"
	ProjectKeyCredential     CredentialKind = "project_key"
)

// Use says that credential ID of Kind was used at At.
type Use struct {
	Kind CredentialKind
	ID   string
	At   time.Time
}

// Expiring is a credential nearing its expiry.
type Expiring struct {
	Kind        CredentialKind
	ID          string
	OrgID       string
	DirectoryID string
	ExpiresAt   time.Time
}

// Page asks for at most Limit rows after the opaque cursor After.
type Page struct {
	After string
	Limit int
}

// AuditFilter selects audit records, newest first; empty fields match everything.
type AuditFilter struct {
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	// From and To bound createdAt: From <= createdAt < To.
	From, To time.Time
	Page
}
