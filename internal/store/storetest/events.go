package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The outbox, the events cursor and webhook bookkeeping.

func init() {
	cases = append(cases, []storeCase{
		{"every write leaves one event in its transaction, numbered 1, 2, 3… in audit order", eventsEveryWrite},
		{"a transaction that fails leaves no event and uses up no number", eventsRollback},
		{"a cursor reader sees every event of concurrent writers exactly once, in order, even when they commit out of order", eventsConcurrentCursor},
		{"the events filter by type and resume after a cursor", eventsFilter},
		{"org B never sees org A's events, webhooks or deliveries", eventsIsolation},
		{"a webhook reads back, updates, rotates its secret and deletes, never auditing a secret", webhookLifecycle},
		{"an endpoint is leased to one owner at a time and its fan-out is compare-and-swap", webhookLease},
		{"a failed attempt backs the endpoint off and a re-enable clears its failure state", webhookFailureState},
		{"a purge deletes what is older than the cutoffs but keeps events a pending delivery needs and each organization's newest", purgeKeepsPending},
		{"the audit log filters by actor, action, target and time", auditFilters},
	}...)
}

func allEvents(t *testing.T, s store.Reader, orgID string, types ...string) []roster.Event {
	t.Helper()
	var out []roster.Event
	after := int64(0)
	for {
		page, err := s.ListEvents(t.Context(), orgID, after, types, 7)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		out = append(out, page...)
		if len(page) < 7 {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

func eventsEveryWrite(t *testing.T, s store.Store) {
	orgID, _ := writeEverything(t, s)
	recs := allAudit(t, s, orgID, store.AuditFilter{})
	evs := allEvents(t, s, orgID)
	if len(evs) != len(recs) {
		t.Fatalf("%d audit records but %d events: every write must leave one of each", len(recs), len(evs))
	}
	// Audit records are newest first.
	for i, e := range evs {
		r := recs[len(recs)-1-i]
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has number %d; want %d (gap-free from 1)", i, e.Seq, i+1)
		}
		if e.Type != r.Action {
			t.Errorf("event %d is %s; want %s, the type of the audit action", e.Seq, e.Type, r.Action)
		}
		if e.Actor != testActor || e.ID == "" || e.CreatedAt.IsZero() || len(e.Data) == 0 {
			t.Errorf("event %d = %+v; want id, time, actor %v and data", e.Seq, e, testActor)
		}
		if e.Type == "api_key.created" && strings.Contains(string(e.Data), "secretHash") {
			t.Errorf("the event of a key's creation carries its secret hash: %s", e.Data)
		}
	}
}

func eventsRollback(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	boom := errors.New("boom")
	err := s.Tx(t.Context(), testActor, func(tx store.Tx) error {
		k := newKey(o.ID)
		if err := tx.CreateOrgKey(t.Context(), k); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v; want the function's error", err)
	}
	createKey(t, s, o.ID, nil)
	evs := allEvents(t, s, o.ID)
	if len(evs) != 2 || evs[0].Type != "organization.created" || evs[1].Type != "api_key.created" || evs[1].Seq != 2 {
		t.Fatalf("events after a rolled-back key and a committed one: %+v; want organization.created 1, api_key.created 2", evs)
	}
}

// eventsConcurrentCursor is the events API's promise under load: writers commit in an order
// unrelated to the order they started (each sleeps a random while inside its transaction),
// and a reader polling with the cursor all along sees each committed event once, in order.
func eventsConcurrentCursor(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	const writers, each = 8, 12
	var stop atomic.Bool
	var seen []roster.Event
	readerDone := make(chan error, 1)
	go func() {
		after := int64(0)
		for {
			last := stop.Load()
			page, err := s.ListEvents(t.Context(), o.ID, after, nil, 5)
			if err != nil {
				readerDone <- err
				return
			}
			for _, e := range page {
				if e.Seq != after+1 {
					readerDone <- fmt.Errorf("after %d the reader got %d: a gap", after, e.Seq)
					return
				}
				after = e.Seq
				seen = append(seen, e)
			}
			if last && len(page) == 0 {
				readerDone <- nil
				return
			}
		}
	}()
	var wg sync.WaitGroup
	var committed sync.Map
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := newKey(o.ID)
				err := s.Tx(t.Context(), testActor, func(tx store.Tx) error {
					if err := tx.CreateOrgKey(t.Context(), k); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					if (w+i)%5 == 0 {
						return errors.New("rolled back on purpose")
					}
					return nil
				})
				if err == nil {
					committed.Store(k.ID, true)
				} else if err.Error() != "rolled back on purpose" {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	stop.Store(true)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	want := 1 // organization.created
	committed.Range(func(any, any) bool { want++; return true })
	if len(seen) != want {
		t.Fatalf("the reader saw %d events; want %d (one per committed write)", len(seen), want)
	}
	ids := map[string]bool{}
	for _, e := range seen {
		if ids[e.ID] {
			t.Fatalf("event %s seen twice", e.ID)
		}
		ids[e.ID] = true
	}
	keys, _ := s.ListOrgKeys(t.Context(), o.ID)
	if len(keys) != want-1 {
		t.Fatalf("%d keys committed but %d events of them", len(keys), want-1)
	}
}

func eventsFilter(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	for range 3 {
		createKey(t, s, o.ID, nil)
	}
	createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	keys := allEvents(t, s, o.ID, "api_key.created")
	if len(keys) != 3 {
		t.Fatalf("filtered by api_key.created: %d events; want 3", len(keys))
	}
	rest, err := s.ListEvents(t.Context(), o.ID, keys[0].Seq, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 3 || rest[0].Seq != keys[0].Seq+1 {
		t.Fatalf("after %d: %+v; want the 3 events that follow", keys[0].Seq, rest)
	}
	first, _ := s.FirstEventSeq(t.Context(), o.ID)
	if first != 0 {
		t.Fatalf("FirstEventSeq with nothing purged = %d; want 0", first)
	}
}

func newWebhook(orgID string) *roster.Webhook {
	return &roster.Webhook{OrgID: orgID, URL: "https://hooks.example.com/roster", SecretEnc: fmt.Sprintf("v1.k.sealed-%d", rand.Int64())}
}

func createWebhook(t *testing.T, s store.Store, orgID string) roster.Webhook {
	t.Helper()
	w := newWebhook(orgID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) })
	return *w
}

func eventsIsolation(t *testing.T, s store.Store) {
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	wa := createWebhook(t, s, a.ID)
	createKey(t, s, a.ID, nil)
	if evs := allEvents(t, s, b.ID); len(evs) != 1 || evs[0].Type != "organization.created" {
		t.Fatalf("org B's events: %+v; want only its own creation", evs)
	}
	if _, err := s.GetWebhook(t.Context(), b.ID, wa.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B reading org A's webhook: %v; want NotFound", err)
	}
	if list, _ := s.ListWebhooks(t.Context(), b.ID); len(list) != 0 {
		t.Errorf("org B lists %d webhooks; want 0", len(list))
	}
	if _, _, err := s.ListDeliveries(t.Context(), b.ID, wa.ID, store.Page{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B listing org A's deliveries: %v; want NotFound", err)
	}
	err := s.Tx(t.Context(), testActor, func(tx store.Tx) error { return tx.DeleteWebhook(t.Context(), b.ID, wa.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B deleting org A's webhook: %v; want NotFound", err)
	}
	w := wa
	w.OrgID = b.ID
	err = s.Tx(t.Context(), testActor, func(tx store.Tx) error { return tx.UpdateWebhook(t.Context(), &w) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B updating org A's webhook: %v; want NotFound", err)
	}
}

func webhookLifecycle(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	w := newWebhook(o.ID)
	w.EventTypes = []string{"user.created", "user.deleted"}
	tx(t, s, func(tx store.Tx) error { return tx.CreateWebhook(t.Context(), w) })
	got, err := s.GetWebhook(t.Context(), o.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != w.URL || !got.Enabled || got.SecretEnc != w.SecretEnc || strings.Join(got.EventTypes, ",") != "user.created,user.deleted" {
		t.Fatalf("webhook read back as %+v; want %+v", got, w)
	}
	got.URL, got.Enabled = "https://hooks.example.com/v2", false
	tx(t, s, func(tx store.Tx) error { return tx.UpdateWebhook(t.Context(), got) })
	if got.Enabled || got.DisabledReason == "" || got.URL != "https://hooks.example.com/v2" {
		t.Errorf("after disabling: %+v; want disabled with a reason and the new URL", got)
	}
	until := now().Add(time.Hour)
	var rotated *roster.Webhook
	tx(t, s, func(tx store.Tx) error {
		var err error
		rotated, err = tx.RotateWebhookSecret(t.Context(), o.ID, w.ID, "v1.k.new", &until)
		return err
	})
	if rotated.SecretEnc != "v1.k.new" || rotated.PrevSecretEnc != w.SecretEnc || rotated.PrevExpiresAt == nil || !rotated.PrevExpiresAt.Equal(until) {
		t.Errorf("after rotating with grace: %+v; want the new secret and the old one until %v", rotated, until)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteWebhook(t.Context(), o.ID, w.ID) })
	if _, err := s.GetWebhook(t.Context(), o.ID, w.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted webhook: %v; want NotFound", err)
	}
	for _, r := range allAudit(t, s, o.ID, store.AuditFilter{TargetID: w.ID}) {
		if strings.Contains(string(r.Before)+string(r.After), "sealed") || strings.Contains(string(r.After), "v1.k.new") {
			t.Errorf("%s audited a secret: %s %s", r.Action, r.Before, r.After)
		}
	}
	var types []string
	for _, e := range allEvents(t, s, o.ID) {
		types = append(types, e.Type)
		if strings.Contains(string(e.Data), "sealed") {
			t.Errorf("event %s carries a secret: %s", e.Type, e.Data)
		}
	}
	want := "organization.created,webhook.created,webhook.updated,webhook.secret_rotated,webhook.deleted"
	if strings.Join(types, ",") != want {
		t.Errorf("events %v; want %s", types, want)
	}
}

func webhookLease(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	w := createWebhook(t, s, o.ID)
	at := time.Now()
	if got, _ := s.ClaimWebhooks(t.Context(), "a", at, time.Minute, 10); len(got) != 0 {
		t.Fatalf("an endpoint with nothing to send was claimed: %+v", got)
	}
	createKey(t, s, o.ID, nil)
	createKey(t, s, o.ID, nil)
	got, err := s.ClaimWebhooks(t.Context(), "a", at, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != w.ID {
		t.Fatalf("ClaimWebhooks = %+v, %v; want the endpoint with new events", got, err)
	}
	if again, _ := s.ClaimWebhooks(t.Context(), "b", at, time.Minute, 10); len(again) != 0 {
		t.Fatalf("a leased endpoint was claimed again by another owner")
	}
	stolen := got[0]
	if _, err := s.FanOut(t.Context(), &stolen, "b", 100); !errors.Is(err, store.ErrStale) {
		t.Errorf("fan-out by a non-owner: %v; want ErrStale", err)
	}
	lease := got[0]
	n, err := s.FanOut(t.Context(), &lease, "a", 100)
	if err != nil || n != 2 {
		t.Fatalf("FanOut = %d, %v; want the 2 events after the endpoint's creation", n, err)
	}
	pending, err := s.PendingDeliveries(t.Context(), &lease, 10)
	if err != nil || len(pending) != 2 || pending[0].Event.Seq > pending[1].Event.Seq || len(pending[0].Event.Data) == 0 {
		t.Fatalf("PendingDeliveries = %+v, %v; want 2 in event order with their events", pending, err)
	}
	// The lease expires: another owner may claim it, and the old owner's writes fail.
	later := at.Add(2 * time.Minute)
	got2, _ := s.ClaimWebhooks(t.Context(), "b", later, time.Minute, 10)
	if len(got2) != 1 {
		t.Fatalf("an expired lease was not claimable: %+v", got2)
	}
	err = s.FinishDeliveries(t.Context(), &lease, "a", []store.AttemptResult{{DeliveryID: pending[0].Delivery.ID, At: later, OK: true, Final: true, Status: 200}}, store.WebhookState{})
	if !errors.Is(err, store.ErrStale) {
		t.Errorf("FinishDeliveries by the lease's former owner: %v; want ErrStale", err)
	}
	b := got2[0]
	if err := s.FinishDeliveries(t.Context(), &b, "b", []store.AttemptResult{{DeliveryID: pending[0].Delivery.ID, At: later, OK: true, Final: true, Status: 200}},
		store.WebhookState{Release: true}); err != nil {
		t.Fatal(err)
	}
	left, _ := s.PendingDeliveries(t.Context(), &b, 10)
	if len(left) != 1 || left[0].Delivery.ID != pending[1].Delivery.ID {
		t.Fatalf("after one success, pending = %+v; want the second delivery", left)
	}
	log, _, err := s.ListDeliveries(t.Context(), o.ID, w.ID, store.Page{})
	if err != nil || len(log) != 2 {
		t.Fatalf("delivery log = %+v, %v", log, err)
	}
	var done *roster.Delivery
	for i := range log {
		if log[i].ID == pending[0].Delivery.ID {
			done = &log[i]
		}
	}
	if done == nil || done.Status != roster.DeliverySucceeded || done.Attempts != 1 || done.ResponseStatus != 200 || done.DeliveredAt == nil {
		t.Errorf("the delivered one in the log: %+v", done)
	}
	var re *roster.Delivery
	tx(t, s, func(tx store.Tx) error {
		var err error
		re, err = tx.Redeliver(t.Context(), o.ID, w.ID, done.ID)
		return err
	})
	if re.Status != roster.DeliveryPending || !re.Manual || re.EventID != done.EventID {
		t.Errorf("redelivery = %+v; want a pending manual delivery of the same event", re)
	}
}

func webhookFailureState(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	w := createWebhook(t, s, o.ID)
	createKey(t, s, o.ID, nil)
	at := time.Now()
	got, _ := s.ClaimWebhooks(t.Context(), "a", at, time.Minute, 1)
	if len(got) != 1 {
		t.Fatal("not claimed")
	}
	l := got[0]
	if _, err := s.FanOut(t.Context(), &l, "a", 100); err != nil {
		t.Fatal(err)
	}
	p, _ := s.PendingDeliveries(t.Context(), &l, 10)
	since := at.UTC().Truncate(time.Microsecond)
	next := at.Add(time.Hour)
	if err := s.FinishDeliveries(t.Context(), &l, "a", []store.AttemptResult{{DeliveryID: p[0].Delivery.ID, At: at, Status: 503, Error: "receiver answered 503"}},
		store.WebhookState{Failures: 1, FailingSince: &since, NextAttemptAt: next, Release: true}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimWebhooks(t.Context(), "a", at.Add(time.Minute), time.Minute, 1); len(again) != 0 {
		t.Fatalf("an endpoint backing off was claimed before its next attempt")
	}
	if again, _ := s.ClaimWebhooks(t.Context(), "a", next.Add(time.Second), time.Minute, 1); len(again) != 1 {
		t.Fatalf("an endpoint was not claimable after its backoff")
	} else {
		l = again[0]
	}
	if l.Failures != 1 || l.FailingSince == nil || !l.FailingSince.Equal(since) {
		t.Errorf("failure state read back as %d since %v", l.Failures, l.FailingSince)
	}
	if err := s.FinishDeliveries(t.Context(), &l, "a", nil, store.WebhookState{Failures: 2, FailingSince: &since, NextAttemptAt: next,
		Disable: true, DisabledReason: "failing", Release: true}); err != nil {
		t.Fatal(err)
	}
	dis, _ := s.GetWebhook(t.Context(), o.ID, w.ID)
	if dis.Enabled || dis.DisabledReason != "failing" {
		t.Fatalf("after Disable: %+v", dis)
	}
	if again, _ := s.ClaimWebhooks(t.Context(), "a", next.Add(time.Hour), time.Minute, 1); len(again) != 0 {
		t.Fatalf("a disabled endpoint was claimed")
	}
	dis.Enabled = true
	tx(t, s, func(tx store.Tx) error { return tx.UpdateWebhook(t.Context(), dis) })
	if dis.Failures != 0 || dis.FailingSince != nil || dis.NextAttemptAt != nil || dis.DisabledReason != "" {
		t.Errorf("re-enabled: %+v; want the failure state cleared", dis)
	}
	if again, _ := s.ClaimWebhooks(t.Context(), "a", time.Now(), time.Minute, 1); len(again) != 1 {
		t.Fatalf("a re-enabled endpoint with a pending delivery was not claimable at once")
	}
	pend, _ := s.PendingDeliveries(t.Context(), dis, 10)
	if len(pend) != 1 || pend[0].Delivery.Attempts != 1 {
		t.Fatalf("the failed delivery: %+v; want still pending after 1 attempt", pend)
	}
}

func purgeKeepsPending(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	createWebhook(t, s, o.ID)
	createKey(t, s, o.ID, nil)
	got, _ := s.ClaimWebhooks(t.Context(), "a", time.Now(), time.Minute, 1)
	if len(got) != 1 {
		t.Fatal("not claimed")
	}
	if _, err := s.FanOut(t.Context(), &got[0], "a", 100); err != nil {
		t.Fatal(err)
	}
	createKey(t, s, o.ID, nil) // not fanned out: nothing holds it
	future := time.Now().Add(time.Hour)
	n, err := s.PurgeBefore(t.Context(), store.Retention{Audit: future, Events: future, Deliveries: future, SCIMRequests: future})
	if err != nil {
		t.Fatal(err)
	}
	// What stays: the event a pending delivery needs (3) and the organization's newest (4),
	// where numbering resumes.
	evs := allEvents(t, s, o.ID)
	if len(evs) != 2 || evs[0].Seq != 3 || evs[1].Seq != 4 {
		t.Fatalf("after the purge: %+v; want events 3 (pending delivery) and 4 (newest)", evs)
	}
	if n.Events != 2 || n.Audit != 4 {
		t.Errorf("purged %+v; want 2 events and 4 audit records", n)
	}
	if recs := allAudit(t, s, o.ID, store.AuditFilter{}); len(recs) != 0 {
		t.Errorf("%d audit records survived a purge of everything", len(recs))
	}
	if first, _ := s.FirstEventSeq(t.Context(), o.ID); first != 2 {
		t.Errorf("FirstEventSeq = %d; want 2", first)
	}
	createKey(t, s, o.ID, nil)
	if evs := allEvents(t, s, o.ID); evs[len(evs)-1].Seq != 5 {
		t.Errorf("numbering after a purge restarted: %+v", evs)
	}
	n, _ = s.PurgeBefore(t.Context(), store.Retention{})
	if n != (store.PurgeCounts{}) {
		t.Errorf("zero cutoffs purged %+v", n)
	}
}

func auditFilters(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	k := createKey(t, s, o.ID, nil)
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	other := roster.Actor{Type: roster.ActorOrgKey, ID: "k-2"}
	if err := s.Tx(t.Context(), other, func(tx store.Tx) error { return tx.DeleteOrgKey(t.Context(), o.ID, k.ID) }); err != nil {
		t.Fatal(err)
	}
	check := func(name string, f store.AuditFilter, want ...string) {
		t.Helper()
		var got []string
		for _, r := range allAudit(t, s, o.ID, f) {
			got = append(got, r.Action)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v; want %v", name, got, want)
		}
	}
	check("by actor", store.AuditFilter{ActorID: "k-2"}, "api_key.deleted")
	check("by action", store.AuditFilter{Action: "api_key.created"}, "api_key.created")
	check("by target type", store.AuditFilter{TargetType: "org_api_key"}, "api_key.deleted", "api_key.created")
	check("by target id", store.AuditFilter{TargetID: o.ID}, "organization.created")
	check("from", store.AuditFilter{From: mid}, "api_key.deleted")
	check("to", store.AuditFilter{To: mid}, "api_key.created", "organization.created")
}
