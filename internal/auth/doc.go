// Package auth owns Roster's credentials and principals: organization API keys, SCIM
// directory tokens, their generation (crypto/rand), storage as SHA-256 digests, constant-time
// verification, expiry and rotation, the coalesced last-use record, the failed-authentication
// limiter, and the principal that an authenticated request carries in its context.
package auth
