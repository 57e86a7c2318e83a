// Package store defines Roster's storage contract: the Store and Tx interfaces that every
// backend implements and that the conformance suite in storetest checks. Every method that
// touches tenant data takes the organization id; the only exceptions are the lookups by
// credential, where the credential itself names the organization.
package store
