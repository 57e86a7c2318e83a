package roster

import (
	"encoding/json"
	"time"
)

// Event is one change as the host app sees it (DESIGN.md section 5a): written in the same
// transaction as the change (the outbox), numbered per organization in commit order.
type Event struct {
	// Seq is the event's position in its organization's stream: 1, 2, 3… with no gaps among
	// committed events, assigned at commit. The events API cursor is built from it.
	Seq       int64
	ID        string
	OrgID     string
	Type      string
	CreatedAt time.Time
	Actor     Actor
	// Data is the resource after the change (as it was just before, for a deletion), as JSON.
	Data json.RawMessage
}

// The event types. The store derives an event's type from the audit action of the change;
// an action without an entry here is its own event type, so a new kind of write emits its
// event with no extra code.
const (
	EventUserCreated        = "user.created"
	EventUserUpdated        = "user.updated"
	EventUserSuspended      = "user.suspended"
	EventUserReactivated    = "user.reactivated"
	EventUserDeleted        = "user.deleted"
	EventGroupCreated       = "group.created"
	EventGroupUpdated       = "group.updated"
	EventGroupDeleted       = "group.deleted"
	EventGroupMemberAdded   = "group.member_added"
	EventGroupMemberRemoved = "group.member_removed"
)

// EventTypes lists every event type a webhook may subscribe to.
var EventTypes = []string{
	"user.created", "user.updated", "user.suspended", "user.reactivated", "user.deleted",
	"group.created", "group.updated", "group.deleted", "group.member_added", "group.member_removed",
	"membership.created", "membership.updated", "membership.suspended", "membership.reactivated",
	"membership.role_changed", "membership.deleted",
	"project.created", "project.updated", "project.deleted",
	"api_key.created", "api_key.deleted", "api_key.rotated",
	"directory.created", "directory.updated", "directory.token_regenerated", "directory.deleted",
	"organization.created", "organization.updated", "organization.deleted",
	"webhook.created", "webhook.updated", "webhook.deleted", "webhook.secret_rotated", "webhook.redelivered",
	"oauth_app.created", "oauth_app.updated", "oauth_app.deleted", "oauth_app.secret_rotated",
	"oauth.consent_granted", "oauth_grant.revoked",
}

// KnownEventType reports whether t is in EventTypes.
func KnownEventType(t string) bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Webhook is an endpoint of an organization that receives its events as signed POSTs.
type Webhook struct {
	ID    string `json:"id"`
	OrgID string `json:"orgId"`
	URL   string `json:"url"`
	// EventTypes filters what is sent; empty means every type.
	EventTypes []string `json:"eventTypes"`
	Enabled    bool     `json:"enabled"`
	// DisabledReason says why delivery stopped: sustained failure, or the admin.
	DisabledReason string `json:"disabledReason,omitempty"`
	// SecretEnc is the signing secret encrypted under the keyring; PrevSecretEnc is the one
	// being rotated out, still used to sign until PrevExpiresAt. Never in audit snapshots.
	SecretEnc     string     `json:"-"`
	PrevSecretEnc string     `json:"-"`
	PrevExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
	// Failures counts consecutive failed attempts; FailingSince is when the first of them was.
	Failures      int        `json:"failures"`
	FailingSince  *time.Time `json:"failingSince,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	// CursorSeq is the last event of the organization considered for this endpoint.
	CursorSeq int64 `json:"-"`
}

// Wants reports whether the endpoint subscribes to events of type t.
func (w *Webhook) Wants(t string) bool {
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, x := range w.EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

// The delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event to send to one endpoint, with the outcome of its last attempt: the
// endpoint's delivery log.
type Delivery struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"-"`
	WebhookID     string     `json:"webhookId"`
	EventID       string     `json:"eventId"`
	EventSeq      int64      `json:"-"`
	EventType     string     `json:"eventType"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	Manual        bool       `json:"manual"`
	LastAttemptAt *time.Time `json:"lastAttemptAt"`
	// ResponseStatus is the HTTP status of the last attempt (0: no response).
	ResponseStatus int    `json:"responseStatus"`
	Error          string `json:"error,omitempty"`
	// LatencyMs is the duration of the last attempt.
	LatencyMs   float64    `json:"latencyMs"`
	CreatedAt   time.Time  `json:"createdAt"`
	DeliveredAt *time.Time `json:"deliveredAt"`
}
