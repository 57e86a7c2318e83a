package events

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Dispatcher defaults.
const (
	DefaultPoll        = time.Second
	DefaultLease       = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 16
	DefaultBatch       = 100
	// MaxFailingFor is how long an endpoint may fail without a success before it is
	// disabled; until then every delivery is retried.
	MaxFailingFor = 72 * time.Hour
	// backoffBase and backoffCap shape the retry delays: 10 s, 20 s, 40 s… up to 6 h, each
	// drawn between half and all of that (jitter), so that a receiver coming back is not
	// hit by every replica at once.
	backoffBase = 10 * time.Second
	backoffCap  = 6 * time.Hour
)

// Backoff is the delay before the next attempt after failures consecutive failures.
func Backoff(failures int) time.Duration {
	d := backoffBase
	for i := 1; i < failures && d < backoffCap; i++ {
		d *= 2
	}
	d = min(d, backoffCap)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Dispatcher sends the outbox to webhook endpoints. Run it in every replica: endpoints are
// leased, so each is served by one replica at a time, and a crashed replica's lease expires.
type Dispatcher struct {
	Store   store.Store
	Service *Service
	// Client must be the outbound client (outbound.New), which refuses private addresses.
	Client *http.Client
	Logger *slog.Logger
	// Owner names this replica in leases (default: random).
	Owner string
	Poll  time.Duration
	// Lease is how long a claimed endpoint stays with this replica; a replica that dies
	// holding one delays that endpoint by at most this. Attempts start only in the first
	// half of a lease and each is bounded by Timeout (which must be under Lease/2), so a
	// lease never expires under an attempt in flight.
	Lease time.Duration
	// Timeout bounds one delivery attempt.
	Timeout     time.Duration
	Concurrency int
	Batch       int
	Now         func() time.Time
	// Backoff and MaxFailingFor override the package defaults (tests).
	Backoff       func(failures int) time.Duration
	MaxFailingFor time.Duration

	once sync.Once
	wake chan struct{}
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		if d.Owner == "" {
			var b [8]byte
			_, _ = crand.Read(b[:])
			d.Owner = hex.EncodeToString(b[:])
		}
		if d.Logger == nil {
			d.Logger = slog.New(slog.DiscardHandler)
		}
		if d.Poll <= 0 {
			d.Poll = DefaultPoll
		}
		if d.Lease <= 0 {
			d.Lease = DefaultLease
		}
		if d.Timeout <= 0 {
			d.Timeout = DefaultTimeout
		}
		if d.Timeout >= d.Lease/2 {
			d.Timeout = d.Lease/2 - d.Lease/10
		}
		if d.Concurrency <= 0 {
			d.Concurrency = DefaultConcurrency
		}
		if d.Batch <= 0 {
			d.Batch = DefaultBatch
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Backoff == nil {
			d.Backoff = Backoff
		}
		if d.MaxFailingFor <= 0 {
			d.MaxFailingFor = MaxFailingFor
		}
	})
}

// Wake makes the dispatcher look for work now rather than at its next poll. It never blocks:
// the store calls it after a transaction that wrote events commits.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends, then waits for the attempts in flight to be recorded.
// wakeCoalesce is the least time between two claims of the dispatcher.
const wakeCoalesce = 20 * time.Millisecond

func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{}, d.Concurrency)
	running := 0
	var last time.Time
	for {
		if free := d.Concurrency - running; free > 0 && ctx.Err() == nil {
			// Commits wake the dispatcher; under a burst of writes one claim serves the
			// commits of the last few milliseconds instead of one claim each.
			if wait := wakeCoalesce - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
			last = time.Now()
			claimed, err := d.Store.ClaimWebhooks(ctx, d.Owner, d.Now(), d.Lease, free)
			if err != nil && ctx.Err() == nil {
				d.Logger.Warn("webhooks: claiming endpoints", "err", err)
			}
			for i := range claimed {
				w := claimed[i]
				running++
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.serve(ctx, &w)
					done <- struct{}{}
				}()
			}
		}
		select {
		case <-ctx.Done():
			for running > 0 {
				<-done
				running--
			}
			return
		case <-done:
			running--
		case <-d.wake:
		case <-t.C:
		}
	}
}

// serve delivers to one leased endpoint, in event order, until it has nothing left, fails,
// or half its lease is used up (the lease then cannot expire under an attempt in flight).
func (d *Dispatcher) serve(ctx context.Context, w *roster.Webhook) {
	log := d.Logger.With("org_id", w.OrgID, "webhook_id", w.ID)
	deadline := time.Now().Add(d.Lease / 2)
	secrets, err := d.Service.Secrets(w, d.Now())
	if err != nil {
		log.Error("webhooks: cannot decrypt the signing secret (is ROSTER_SECRET_KEY the one it was made with?)", "err", err)
		d.finish(w, nil, d.failState(w, d.Now()), log)
		return
	}
	for {
		if ctx.Err() != nil || time.Now().After(deadline) {
			d.finish(w, nil, d.keepState(w), log)
			return
		}
		// Each round rereads the endpoint: an admin may have rotated its secret, changed its
		// URL or types, or disabled it while this lease runs.
		cur, err := d.Store.GetWebhook(ctx, w.OrgID, w.ID)
		if err != nil {
			d.finish(w, nil, d.keepState(w), log)
			return
		}
		if !cur.Enabled {
			d.finish(w, nil, d.keepState(w), log)
			return
		}
		if cur.SecretEnc != w.SecretEnc || cur.PrevSecretEnc != w.PrevSecretEnc || !sameTime(cur.PrevExpiresAt, w.PrevExpiresAt) {
			if secrets, err = d.Service.Secrets(cur, d.Now()); err != nil {
				log.Error("webhooks: cannot decrypt the signing secret", "err", err)
				d.finish(w, nil, d.keepState(w), log)
				return
			}
		}
		w.URL, w.EventTypes, w.SecretEnc, w.PrevSecretEnc, w.PrevExpiresAt = cur.URL, cur.EventTypes, cur.SecretEnc, cur.PrevSecretEnc, cur.PrevExpiresAt
		fanned, err := d.Store.FanOut(ctx, w, d.Owner, 500)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("webhooks: fan-out", "err", err)
			}
			d.finish(w, nil, d.keepState(w), log) // give the lease back (else it expires)
			return
		}
		pending, err := d.Store.PendingDeliveries(ctx, w, d.Batch)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("webhooks: reading deliveries", "err", err)
			}
			d.finish(w, nil, d.keepState(w), log)
			return
		}
		if len(pending) == 0 {
			if fanned == 0 {
				d.finish(w, nil, d.keepState(w), log)
				return
			}
			continue
		}
		var results []store.AttemptResult
		failed := false
		for i := range pending {
			if ctx.Err() != nil || time.Now().After(deadline) {
				break
			}
			p := &pending[i]
			if p.Event.Data == nil {
				results = append(results, store.AttemptResult{DeliveryID: p.Delivery.ID, At: d.Now(), Final: true,
					Error: "the event is no longer retained"})
				continue
			}
			r := d.send(ctx, w, p, secrets)
			if !r.OK && ctx.Err() != nil {
				// Cut short by the shutdown: the receiver may or may not have it. That is no
				// failure of the endpoint's; the delivery stays pending and is sent again.
				break
			}
			results = append(results, r)
			if !r.OK {
				failed = true
				break
			}
		}
		if failed {
			at := results[len(results)-1].At
			d.finish(w, results, d.failState(w, at), log)
			return
		}
		st := d.okState(w, false)
		if len(results) == 0 || !results[len(results)-1].OK {
			st = d.keepState(w) // stopped before any attempt: nothing to judge by
			st.Release = false
		}
		if !d.finish(w, results, st, log) {
			return
		}
	}
}

func (d *Dispatcher) okState(w *roster.Webhook, release bool) store.WebhookState {
	return store.WebhookState{Release: release}
}

// keepState releases the lease leaving the failure state as it was.
func (d *Dispatcher) keepState(w *roster.Webhook) store.WebhookState {
	st := store.WebhookState{Failures: w.Failures, FailingSince: w.FailingSince, Release: true}
	if w.NextAttemptAt != nil {
		st.NextAttemptAt = *w.NextAttemptAt
	}
	return st
}

func (d *Dispatcher) failState(w *roster.Webhook, at time.Time) store.WebhookState {
	since := at
	if w.FailingSince != nil {
		since = *w.FailingSince
	}
	st := store.WebhookState{Failures: w.Failures + 1, FailingSince: &since, NextAttemptAt: at.Add(d.Backoff(w.Failures + 1)), Release: true}
	if at.Sub(since) >= d.MaxFailingFor {
		st.Disable = true
		st.DisabledReason = fmt.Sprintf("disabled after failing since %s (%d attempts); re-enable with PATCH {\"enabled\":true}",
			since.UTC().Format(time.RFC3339), st.Failures)
	}
	return st
}

// finish records results; it works on a context of its own so that attempts made before a
// shutdown are still recorded (else they are sent again: delivery is at least once).
func (d *Dispatcher) finish(w *roster.Webhook, results []store.AttemptResult, st store.WebhookState, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Store.FinishDeliveries(ctx, w, d.Owner, results, st); err != nil {
		log.Warn("webhooks: recording attempts", "err", err)
		return false
	}
	w.Failures, w.FailingSince = st.Failures, st.FailingSince
	w.NextAttemptAt = nil
	if !st.NextAttemptAt.IsZero() {
		t := st.NextAttemptAt
		w.NextAttemptAt = &t
	}
	if st.Disable {
		log.Warn("webhooks: endpoint disabled after sustained failure", "failures", st.Failures)
	}
	return true
}

// send makes one attempt.
func (d *Dispatcher) send(ctx context.Context, w *roster.Webhook, p *store.PendingDelivery, secrets []string) store.AttemptResult {
	res := store.AttemptResult{DeliveryID: p.Delivery.ID}
	body, err := Body(&p.Event)
	if err != nil {
		res.At, res.Error, res.Final = d.Now(), err.Error(), true
		return res
	}
	start := time.Now()
	res.At = d.Now()
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Roster-Webhooks/1")
	req.Header.Set(EventIDHeader, p.Event.ID)
	req.Header.Set(SignatureHeader, Sign(body, res.At, secrets...))
	resp, err := d.Client.Do(req)
	res.Latency = time.Since(start)
	if err != nil {
		res.Error = truncate(err.Error(), 500)
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	res.Final = res.OK
	if !res.OK {
		res.Error = "receiver answered " + resp.Status
	}
	return res
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Retention is how long each kind of record is kept (zero: forever).
type Retention struct {
	Audit, Events, Deliveries, SCIMRequests time.Duration
}

// Purge deletes what retention no longer keeps, at once and then every interval.
func Purge(ctx context.Context, st store.Store, r Retention, every time.Duration, now func() time.Time, log *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n := now()
		var c store.Retention
		cut := func(d time.Duration) time.Time {
			if d <= 0 {
				return time.Time{}
			}
			return n.Add(-d)
		}
		c.Audit, c.Events, c.Deliveries, c.SCIMRequests = cut(r.Audit), cut(r.Events), cut(r.Deliveries), cut(r.SCIMRequests)
		counts, err := st.PurgeBefore(ctx, c)
		if err != nil && ctx.Err() == nil {
			log.Warn("retention purge", "err", err)
		} else if counts != (store.PurgeCounts{}) {
			log.Info("retention purge", "audit", counts.Audit, "events", counts.Events, "deliveries", counts.Deliveries,
				"scim_requests", counts.SCIMRequests)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
