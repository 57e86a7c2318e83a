package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// SSOReader reads organizations' SSO configuration.
type SSOReader interface {
	GetSAMLConnection(ctx context.Context, orgID, id string) (*roster.SAMLConnection, error)
	ListSAMLConnections(ctx context.Context, orgID string) ([]roster.SAMLConnection, error)
	// LookupSAMLConnection finds a connection by id alone, across organizations: the
	// IdP-initiated route /saml/callback/{connectionId} names nothing else. The connection
	// names its organization.
	LookupSAMLConnection(ctx context.Context, id string) (*roster.SAMLConnection, error)
	GetOIDCConnection(ctx context.Context, orgID, id string) (*roster.OIDCConnection, error)
	ListOIDCConnections(ctx context.Context, orgID string) ([]roster.OIDCConnection, error)
	// ListSSODomains lists the organization's claimed domains, verified or not.
	ListSSODomains(ctx context.Context, orgID string) ([]roster.SSODomain, error)
	// LookupVerifiedDomain finds the organization that verified domain, across
	// organizations, with its SSO settings; NotFound when no one has.
	LookupVerifiedDomain(ctx context.Context, domain string) (*roster.SSODomain, *roster.SSOSettings, error)
	// GetSSOSettings returns the organization's settings (all off when never set).
	GetSSOSettings(ctx context.Context, orgID string) (*roster.SSOSettings, error)
	// FindLoginState finds a login in flight by the request id its response names
	// (InResponseTo), live at now.
	FindLoginState(ctx context.Context, requestID string, now time.Time) (*roster.LoginState, error)
}

// SSOWriter changes SSO configuration (each change audited) and keeps the login
// bookkeeping (login states and the assertion replay cache, not audited; refusals audited).
type SSOWriter interface {
	CreateSAMLConnection(ctx context.Context, c *roster.SAMLConnection) error
	UpdateSAMLConnection(ctx context.Context, c *roster.SAMLConnection) error
	// DeleteSAMLConnection deletes a connection; its domains stay claimed, unlinked.
	DeleteSAMLConnection(ctx context.Context, orgID, id string) error
	CreateOIDCConnection(ctx context.Context, c *roster.OIDCConnection) error
	UpdateOIDCConnection(ctx context.Context, c *roster.OIDCConnection) error
	DeleteOIDCConnection(ctx context.Context, orgID, id string) error

	// SetConnectionDomains makes domains exactly the ones linked to connection connID:
	// domains new to the organization are claimed (unverified, with challenge(domain) as
	// their DNS challenge), domains it already claims are linked to connID keeping their
	// verification, and domains linked to connID but not listed are unlinked.
	SetConnectionDomains(ctx context.Context, orgID, connID string, domains []string, challenge func(string) string) error
	// VerifyDomain marks a claimed domain verified by by ("dns" or "admin"). Conflict when
	// another organization has verified it; NotFound when the organization never claimed it.
	VerifyDomain(ctx context.Context, orgID, domain, by string) error
	// SetSSOEnforced turns enforcement on or off.
	SetSSOEnforced(ctx context.Context, orgID string, enforced bool) error

	// CreateLoginState stores a login in flight.
	CreateLoginState(ctx context.Context, s *roster.LoginState) error
	// ConsumeLoginState deletes and returns the login state id (the RelayState or OIDC
	// state, which names its organization), live at now: a state is used once, by whichever
	// replica gets the IdP's answer first. NotFound for an unknown, used or expired state.
	ConsumeLoginState(ctx context.Context, id string, now time.Time) (*roster.LoginState, error)
	// RecordAssertion remembers an accepted assertion id of a connection until expiresAt;
	// Conflict when it was seen before (a replay).
	RecordAssertion(ctx context.Context, orgID, connID, assertionID string, expiresAt time.Time) error
	// RecordLoginRefused writes the audit record of a refused sign-in with its reason.
	RecordLoginRefused(ctx context.Context, orgID string, target roster.Target, detail map[string]string) error
}

// SSOKeeper purges expired SSO bookkeeping.
type SSOKeeper interface {
	// PurgeSSOState deletes expired login states and replay-cache entries.
	PurgeSSOState(ctx context.Context, now time.Time) (int64, error)
}
