// Package oauth is Roster's OAuth 2.0 authorization server and OpenID Connect provider for
// the host application: apps (clients) of an organization sign its members in with the
// authorization code flow and PKCE (RFC 6749, RFC 7636), get ID tokens (OpenID Connect Core
// 1.0) signed with RS256 or ES256 under rotating keys published in a JWKS, exchange refresh
// tokens with rotation and reuse detection (RFC 9700 section 4.14), and revoke (RFC 7009) and
// introspect (RFC 7662) tokens. Every piece of state lives in the store, so replicas on one
// PostgreSQL database behave as one provider.
//
// Access and refresh tokens are opaque random strings stored as their SHA-256: revocation and
// suspension take effect at the next use, without waiting for a JWT to expire.
package oauth
