// Package events delivers the outbox to the host app: the events API cursor, webhook
// endpoints with signing secrets encrypted under the keyring, and the dispatcher that sends
// each event as a signed POST with retries, exponential backoff and jitter for up to three
// days (DESIGN.md section 5a, docs/events.md).
//
// Events are written by the store in the same transaction as the change that caused them;
// this package only reads them. The dispatcher leases an endpoint before sending to it (on
// PostgreSQL with FOR UPDATE SKIP LOCKED), so with several replicas each endpoint, and so
// each delivery, is attempted by one replica at a time, in event order.
package events
