// Package roster holds Roster's domain: organizations, credentials, directories, roles,
// audit records and the closed set of error kinds that every layer speaks. It depends on the
// standard library only; storage, protocols and transports depend on it, never the reverse.
package roster
