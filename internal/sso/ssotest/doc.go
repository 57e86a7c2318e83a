// Package ssotest holds identity providers for tests: a SAML 2.0 IdP that signs with keys
// it generates, and an OpenID Connect provider with a rotating JWKS. Both serve on loopback
// through httptest, and both can be told to misbehave, so that every refusal of package sso
// is tested against a real protocol peer.
package ssotest
