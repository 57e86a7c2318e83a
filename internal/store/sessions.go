package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// SessionReader reads signed-in members' sessions.
type SessionReader interface {
	// LookupSession finds the live session whose token has the SHA-256 hash, across
	// organizations (the token names its organization), with its member. A session is live
	// when neither its idle nor its absolute expiry has passed at now, its member is active
	// (not suspended, not deleted) and still holds an org membership; anything else is
	// NotFound. The caller compares the hash in constant time.
	LookupSession(ctx context.Context, hash []byte, now time.Time) (*roster.Session, *roster.Member, error)
	// ListMemberSessions lists a member's sessions, live or not yet purged, newest first.
	ListMemberSessions(ctx context.Context, orgID, userID string) ([]roster.Session, error)
}

// SessionWriter starts and ends sessions; each records its audit entry. Suspending or
// deleting a member (UpdateMember, DeleteMember) ends its sessions in the same transaction.
type SessionWriter interface {
	// CreateSession inserts s (ID, TokenHash, times and method set by the caller; an empty
	// ID is generated).
	CreateSession(ctx context.Context, s *roster.Session) error
	// DeleteSession ends one session of the organization (sign-out).
	DeleteSession(ctx context.Context, orgID, sessionID string) error
	// DeleteMemberSessions ends every session of a member and returns how many it ended.
	DeleteMemberSessions(ctx context.Context, orgID, userID string) (int, error)
}

// SessionKeeper is the bookkeeping of sessions, outside any transaction and without audit
// records.
type SessionKeeper interface {
	// TouchSession records that a session was used at seen and moves its idle expiry to
	// idleExpiresAt (never past its absolute expiry, never backwards). Callers coalesce: they
	// touch a session only when its LastSeenAt is older than a minute or so, not on every
	// request.
	TouchSession(ctx context.Context, orgID, sessionID string, seen, idleExpiresAt time.Time) error
	// PurgeSessions deletes sessions that expired before now and returns how many.
	PurgeSessions(ctx context.Context, now time.Time) (int64, error)
}
