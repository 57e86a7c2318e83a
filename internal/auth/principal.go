package auth

import (
	"context"

	"github.com/rosterhq/roster/internal/roster"
)

// PrincipalKind says which credential authenticated a request.
type PrincipalKind int

// The principal kinds.
const (
	None PrincipalKind = iota
	Admin
	OrgKey
	DirectoryToken
	// ProjectKey is a project API key: it reads its own project and nothing else of the
	// organization API.
	ProjectKey
	// Member is a signed-in member, authenticated by a session cookie (Sessions).
	Member
)

// Principal is who an authenticated request acts as.
type Principal struct {
	Kind PrincipalKind
	// OrgID is the organization the credential belongs to (empty for Admin).
	OrgID string
	// CredentialID is the org key id or the directory token id.
	CredentialID string
	// Directory is set for a directory token: the directory it opens.
	Directory *roster.Directory
	// ProjectID is set for a project key: its project.
	ProjectID string
	// Member and Session are set for a signed-in member: who it is (as read with the
	// session, so its role is current) and the session that authenticated the request.
	Member  *roster.Member
	Session *roster.Session
}

// Actor is the audit actor of the principal.
func (p Principal) Actor() roster.Actor {
	switch p.Kind {
	case Admin:
		return roster.Actor{Type: roster.ActorAdminKey, ID: "admin"}
	case OrgKey:
		return roster.Actor{Type: roster.ActorOrgKey, ID: p.CredentialID}
	case DirectoryToken:
		return roster.Actor{Type: roster.ActorDirectory, ID: p.Directory.ID}
	case Member:
		return roster.Actor{Type: roster.ActorMember, ID: p.Member.ID}
	}
	return roster.Actor{Type: roster.ActorSystem, ID: "anonymous"}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx; Kind is None when the request is anonymous.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}
