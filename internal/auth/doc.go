// Package auth owns Roster's credentials and principals: organization API keys, SCIM
// directory tokens, their generation (crypto/rand), storage as SHA-256 digests, constant-time
// verification, expiry and rotation, the coalesced last-use record, the failed-authentication
// limiter, and the principal that an authenticated request carries in its context.
//
// Signed-in members hold sessions (Sessions, session.go): a random token in the
// roster_session cookie, its SHA-256 in the store, checked against the member's status on
// every read; and state-changing routes that such a cookie authenticates pass
// Sessions.CheckOrigin (Go's http.CrossOriginProtection).
package auth
