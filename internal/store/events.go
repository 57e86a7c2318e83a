package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// EventReader reads the outbox and the webhook configuration of an organization.
type EventReader interface {
	// ListEvents returns up to limit events of the organization with Seq > after, in Seq
	// order, restricted to types when not empty. Seq is gap-free among committed events and
	// assigned in commit order, so a reader that passes back the last Seq it saw never misses
	// an event and never sees one twice.
	ListEvents(ctx context.Context, orgID string, after int64, types []string, limit int) ([]roster.Event, error)
	// FirstEventSeq is the Seq just before the oldest retained event (0 when none was purged).
	FirstEventSeq(ctx context.Context, orgID string) (int64, error)

	GetWebhook(ctx context.Context, orgID, id string) (*roster.Webhook, error)
	ListWebhooks(ctx context.Context, orgID string) ([]roster.Webhook, error)
	// ListDeliveries returns an endpoint's deliveries, newest first.
	ListDeliveries(ctx context.Context, orgID, webhookID string, page Page) ([]roster.Delivery, string, error)
	GetDelivery(ctx context.Context, orgID, webhookID, id string) (*roster.Delivery, error)
}

// WebhookWriter changes webhook endpoints; each write records its audit entry (and so its
// event), never with a secret.
type WebhookWriter interface {
	// CreateWebhook inserts w (SecretEnc set by the caller). Its cursor starts at the
	// organization's latest event: it receives the events committed after it.
	CreateWebhook(ctx context.Context, w *roster.Webhook) error
	// UpdateWebhook writes URL, event types and the enabled flag; re-enabling clears the
	// failure state so that delivery resumes at once where it stopped.
	UpdateWebhook(ctx context.Context, w *roster.Webhook) error
	DeleteWebhook(ctx context.Context, orgID, id string) error
	// RotateWebhookSecret makes newEnc the signing secret; the old one keeps signing until
	// prevUntil (nil: dropped at once).
	RotateWebhookSecret(ctx context.Context, orgID, id, newEnc string, prevUntil *time.Time) (*roster.Webhook, error)
	// Redeliver queues a new delivery of the event of an existing delivery.
	Redeliver(ctx context.Context, orgID, webhookID, deliveryID string) (*roster.Delivery, error)
}

// Outbox is what the webhook dispatcher uses. Its writes are bookkeeping, not changes an
// admin made: they leave no audit record and no event.
type Outbox interface {
	// ClaimWebhooks leases up to limit enabled endpoints that have work due (events not yet
	// fanned out, or pending deliveries) and whose backoff has passed, to owner until
	// now+lease. On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so replicas
	// never claim the same endpoint; an expired lease (a crashed replica) is claimable again.
	ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]roster.Webhook, error)
	// FanOut turns up to limit events after w.CursorSeq into pending deliveries of w (those
	// of the types it wants) and advances its cursor, compare-and-swap on the cursor and the
	// lease. It returns how many events it considered, and updates w.CursorSeq.
	FanOut(ctx context.Context, w *roster.Webhook, owner string, limit int) (int, error)
	// PendingDeliveries returns an endpoint's pending deliveries in event order, with their
	// events (Event.Data nil when the event is no longer retained).
	PendingDeliveries(ctx context.Context, w *roster.Webhook, limit int) ([]PendingDelivery, error)
	// FinishDeliveries records attempt results and the endpoint's new failure state, if
	// owner still holds the lease (else ErrStale).
	FinishDeliveries(ctx context.Context, w *roster.Webhook, owner string, results []AttemptResult, next WebhookState) error
	// PurgeBefore deletes, in batches, audit records, events, finished deliveries and SCIM
	// request-log entries older than their cutoffs (a zero cutoff keeps everything). Events a
	// pending delivery still needs are kept.
	PurgeBefore(ctx context.Context, c Retention) (PurgeCounts, error)
}

// PendingDelivery is a delivery to attempt with its event.
type PendingDelivery struct {
	Delivery roster.Delivery
	Event    roster.Event
}

// AttemptResult is the outcome of one delivery attempt.
type AttemptResult struct {
	DeliveryID string
	At         time.Time
	OK         bool
	Status     int
	Error      string
	Latency    time.Duration
	// Final marks a delivery that will not be tried again (OK, or its event is gone).
	Final bool
}

// WebhookState is an endpoint's failure state after a round of attempts.
type WebhookState struct {
	Failures       int
	FailingSince   *time.Time
	NextAttemptAt  time.Time
	Disable        bool
	DisabledReason string
	// Release gives the lease back.
	Release bool
}

// Retention holds purge cutoffs: rows created before each are deleted (zero: keep).
type Retention struct {
	Audit, Events, Deliveries, SCIMRequests time.Time
}

// PurgeCounts says how many rows a purge deleted.
type PurgeCounts struct {
	Audit, Events, Deliveries, SCIMRequests int64
}
