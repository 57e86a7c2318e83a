// Package sso is Roster's single sign-on for organization members: a SAML 2.0 service
// provider and an OpenID Connect relying party per organization, the routing of an email to
// its organization's connection, corporate domains and their enforcement.
//
// SAML responses are verified by github.com/russellhaering/gosaml2 (signatures through
// goxmldsig, pinned at v1.6.1 or later). What that library leaves to its caller is done
// here, strictly: an assertion outside its validity window (with a small clock skew) or not
// addressed to our audience is refused rather than warned about, an AudienceRestriction is
// required, exactly one assertion is accepted, InResponseTo must name the AuthnRequest of
// a login in flight, each assertion is accepted once (a replay cache in the database, shared
// by all replicas), and the connection is always the one our own login state (or the
// IdP-initiated route) names, never one chosen from the response's Issuer.
//
// OIDC logins use github.com/coreos/go-oidc/v3 and golang.org/x/oauth2: discovery and JWKS
// through the outbound client (internal/outbound), the authorization code flow with PKCE,
// state and nonce kept server-side, and ID tokens checked for issuer, audience, expiry,
// nonce and signature (an unknown key id makes go-oidc fetch the JWKS again, which is how a
// provider's key rotation is followed).
//
// Every refused sign-in is written to the organization's audit log (action
// sso.login_refused) with its reason. A successful one starts a session (auth.Sessions).
package sso
