package events_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

func TestSignaturesVerifyAndStaleOrForeignOnesAreRefused(t *testing.T) {
	body := []byte(`{"id":"e1","type":"user.created"}`)
	now := time.Unix(1767225600, 0)
	h := events.Sign(body, now, "whsec_new", "whsec_old")
	if !strings.HasPrefix(h, "t=1767225600,v1=") || strings.Count(h, "v1=") != 2 {
		t.Fatalf("header %q: want t= then two v1= values", h)
	}
	for _, c := range []struct {
		name   string
		secret string
		at     time.Time
		body   []byte
		want   error
	}{
		{"the new secret verifies", "whsec_new", now, body, nil},
		{"the old secret verifies during the grace period", "whsec_old", now.Add(time.Minute), body, nil},
		{"another secret does not", "whsec_other", now, body, events.ErrNoSignature},
		{"an altered body does not", "whsec_new", now, []byte(`{"id":"e2"}`), events.ErrNoSignature},
		{"a timestamp older than the tolerance is refused", "whsec_new", now.Add(6 * time.Minute), body, events.ErrStaleTimestamp},
		{"a timestamp from the future beyond the tolerance is refused", "whsec_new", now.Add(-6 * time.Minute), body, events.ErrStaleTimestamp},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := events.Verify(h, c.body, c.secret, c.at, events.DefaultTolerance); !errors.Is(err, c.want) {
				t.Errorf("Verify = %v; want %v", err, c.want)
			}
		})
	}
	if err := events.Verify("v1=abc", body, "s", now, time.Minute); !errors.Is(err, events.ErrBadHeader) {
		t.Errorf("a header without t: %v; want ErrBadHeader", err)
	}
	// The documented computation, hex HMAC-SHA256(secret, "<t>.<body>"), checked against an
	// independent one (Python's hmac module) so that receivers in any language agree.
	if got := events.Sign([]byte("hello"), time.Unix(1, 0), "key"); got != "t=1,v1=9233658ef5e21fe59dba8abb099c978547d7626f87090a6a585c26a2a98a91f8" {
		t.Errorf("Sign(hello, 1, key) = %s; want the documented test vector", got)
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	for n, max := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 5: 160 * time.Second, 30: 6 * time.Hour} {
		for range 50 {
			d := events.Backoff(n)
			if d < max/2 || d > max {
				t.Fatalf("Backoff(%d) = %v; want between %v and %v", n, d, max/2, max)
			}
		}
	}
	// Retries continue for the three days before an endpoint is disabled: about 24 attempts.
	total, n := time.Duration(0), 0
	for total < events.MaxFailingFor {
		n++
		total += events.Backoff(n)
	}
	if n < 15 || n > 40 {
		t.Errorf("%d attempts fit in three days; want a few dozen", n)
	}
}

// TestEveryEventReachesTheReceiverSignedAndInOrder is the promise of point 5: a real HTTP
// receiver verifies each signature and sees every event of the organization once, in order.
func TestEveryEventReachesTheReceiverSignedAndInOrder(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		svc := events.NewService(st, keyringtest.New(t), nil)
		org := createOrg(t, st)
		rcv := newReceiver(t)
		w, secret, err := svc.CreateWebhook(ctx, actor, org, rcv.srv.URL+"/hook", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, events.SecretPrefix) || strings.Contains(w.SecretEnc, secret) {
			t.Fatalf("secret %q, stored %q: want a whsec_ secret stored only encrypted", secret, w.SecretEnc)
		}
		rcv.setSecret(secret)
		d := &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 20 * time.Millisecond}
		runDispatcher(t, d)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					change(t, st, org)
				}
			}()
		}
		wg.Wait()
		want := allEvents(t, st, org)
		want = want[2:] // organization.created and webhook.created precede the endpoint
		if len(want) != 200 {
			t.Fatalf("%d events; want 200", len(want))
		}
		waitFor(t, 20*time.Second, "every event delivered", func() bool { return len(rcv.events()) >= len(want) })
		got := rcv.events()
		if len(got) != len(want) {
			t.Fatalf("the receiver got %d deliveries; want %d, once each", len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Type != want[i].Type {
				t.Fatalf("delivery %d is %s %s; want event %d (%s %s): out of order or missing", i, got[i].ID, got[i].Type, want[i].Seq, want[i].ID, want[i].Type)
			}
			if string(got[i].Data) != string(want[i].Data) || got[i].Actor != want[i].Actor {
				t.Fatalf("delivery %d carries %s by %v; want %s by %v", i, got[i].Data, got[i].Actor, want[i].Data, want[i].Actor)
			}
		}
		if len(rcv.bad) > 0 {
			t.Fatalf("the receiver refused requests: %v", rcv.bad)
		}
		var log []roster.Delivery
		waitFor(t, 10*time.Second, "every attempt logged", func() bool {
			log, _, err = st.ListDeliveries(ctx, org, w.ID, store.Page{Limit: 1000})
			for _, e := range log {
				if e.Status == roster.DeliveryPending {
					return false
				}
			}
			return err == nil
		})
		if err != nil || len(log) != 200 {
			t.Fatalf("delivery log: %d entries, %v", len(log), err)
		}
		for _, e := range log {
			if e.Status != roster.DeliverySucceeded || e.ResponseStatus != 204 || e.Attempts != 1 {
				t.Fatalf("log entry %+v; want succeeded with 204 after 1 attempt", e)
			}
		}
	})
}

func TestAFailingReceiverIsRetriedUntilItRecoversThenDisabledAfterSustainedFailure(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(t), nil)
	org := createOrg(t, st)
	rcv := newReceiver(t)
	w, secret, err := svc.CreateWebhook(ctx, actor, org, rcv.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(secret)
	rcv.fail = func(n int) int {
		if n <= 3 {
			return 503
		}
		return 0
	}
	var mu sync.Mutex
	var delays []int
	d := &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 10 * time.Millisecond,
		Backoff: func(n int) time.Duration {
			mu.Lock()
			delays = append(delays, n)
			mu.Unlock()
			return 20 * time.Millisecond
		}}
	stop := runDispatcher(t, d)
	change(t, st, org)
	change(t, st, org)
	waitFor(t, 10*time.Second, "delivery after three failures", func() bool { return len(rcv.events()) == 2 })
	// The receiver has both before the dispatcher has recorded the second: stopping it in
	// between would leave that delivery pending, to be sent again.
	waitFor(t, 10*time.Second, "both deliveries recorded", func() bool {
		log, _, err := st.ListDeliveries(ctx, org, w.ID, store.Page{})
		done := err == nil && len(log) == 2
		for _, e := range log {
			done = done && e.Status == roster.DeliverySucceeded
		}
		return done
	})
	mu.Lock()
	if len(delays) != 3 || delays[0] != 1 || delays[2] != 3 {
		t.Errorf("backoff asked for failures %v; want 1, 2, 3", delays)
	}
	mu.Unlock()
	if got := rcv.events(); got[0].Type != "api_key.created" || got[0].ID == got[1].ID {
		t.Errorf("after recovery the receiver got %+v", got)
	}
	stop()
	log, _, _ := st.ListDeliveries(ctx, org, w.ID, store.Page{})
	first := log[len(log)-1]
	if first.Attempts != 4 || first.Status != roster.DeliverySucceeded {
		t.Errorf("the first delivery: %+v; want succeeded on its 4th attempt", first)
	}
	wh, _ := st.GetWebhook(ctx, org, w.ID)
	if wh.Failures != 0 || wh.FailingSince != nil {
		t.Errorf("after a success the failure state is %d since %v; want cleared", wh.Failures, wh.FailingSince)
	}

	// Now the receiver fails for good: the endpoint is disabled once it has failed for
	// MaxFailingFor, and the event waits.
	rcv.fail = func(int) int { return 500 }
	d2 := &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 10 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, MaxFailingFor: 150 * time.Millisecond}
	runDispatcher(t, d2)
	change(t, st, org)
	waitFor(t, 10*time.Second, "the endpoint disabled", func() bool {
		wh, _ := st.GetWebhook(ctx, org, w.ID)
		return !wh.Enabled
	})
	wh, _ = st.GetWebhook(ctx, org, w.ID)
	if !strings.Contains(wh.DisabledReason, "failing since") || wh.Failures < 2 {
		t.Errorf("disabled with reason %q after %d failures", wh.DisabledReason, wh.Failures)
	}
	change(t, st, org) // happens while disabled: delivered after the re-enable
	rcv.fail = nil
	enabled := true
	if _, err := svc.UpdateWebhook(ctx, actor, org, w.ID, events.WebhookPatch{Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	// Everything after the endpoint's creation arrives, in order: the event that failed for
	// good, the one made while disabled, and the re-enable itself.
	want := allEvents(t, st, org)[2:]
	waitFor(t, 10*time.Second, "delivery after the admin re-enabled the endpoint", func() bool { return len(rcv.events()) >= len(want) })
	got := rcv.events()
	if len(got) != len(want) {
		t.Fatalf("%d deliveries; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("delivery %d: %s %s; want %s %s", i, got[i].ID, got[i].Type, want[i].ID, want[i].Type)
		}
	}
	if want[len(want)-1].Type != "webhook.updated" {
		t.Errorf("the last event is %s; want the re-enable, webhook.updated", want[len(want)-1].Type)
	}
}

func TestARotatedSecretSignsWithBothNewFirstDuringTheGracePeriod(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(t), nil)
	org := createOrg(t, st)
	rcv := newReceiver(t)
	w, oldSecret, err := svc.CreateWebhook(ctx, actor, org, rcv.srv.URL, []string{"api_key.created"})
	if err != nil {
		t.Fatal(err)
	}
	_, newSecret, err := svc.RotateSecret(ctx, actor, org, w.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(oldSecret) // a receiver not yet updated keeps verifying
	runDispatcher(t, &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 10 * time.Millisecond})
	change(t, st, org)
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.events()) == 1 })
	sig := rcv.sigs[0]
	parts := strings.Split(sig, ",")
	if len(parts) != 3 {
		t.Fatalf("signature %q: want t and two v1 values during the grace period", sig)
	}
	body, _ := events.Body(&roster.Event{})
	_ = body
	ts := strings.TrimPrefix(parts[0], "t=")
	for i, secret := range []string{newSecret, oldSecret} {
		one := "t=" + ts + "," + parts[i+1]
		raw := rcvBody(t, st, org)
		if err := events.Verify(one, raw, secret, time.Now(), time.Minute); err != nil {
			t.Errorf("v1 value %d does not verify with the %s secret: %v", i+1, []string{"new", "old"}[i], err)
		}
	}
	// Without grace the old secret stops at once.
	_, newer, err := svc.RotateSecret(ctx, actor, org, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(newer)
	change(t, st, org)
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.events()) == 2 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if n := strings.Count(rcv.sigs[1], "v1="); n != 1 {
		t.Errorf("after a rotation without grace: %d signatures; want 1", n)
	}
}

// rcvBody rebuilds the body of the first api_key.created event, as it was sent.
func rcvBody(t *testing.T, st store.Store, org string) []byte {
	for _, e := range allEvents(t, st, org) {
		if e.Type == "api_key.created" {
			b, _ := events.Body(&e)
			return b
		}
	}
	t.Fatal("no api_key.created event")
	return nil
}

func TestARedeliveryIsSentAgainAndLogged(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(t), nil)
	org := createOrg(t, st)
	rcv := newReceiver(t)
	w, secret, _ := svc.CreateWebhook(ctx, actor, org, rcv.srv.URL, nil)
	rcv.setSecret(secret)
	runDispatcher(t, &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 10 * time.Millisecond})
	change(t, st, org)
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(rcv.events()) == 1 })
	log, _, _ := st.ListDeliveries(ctx, org, w.ID, store.Page{})
	var re *roster.Delivery
	if err := st.Tx(ctx, actor, func(tx store.Tx) error {
		var err error
		re, err = tx.Redeliver(ctx, org, w.ID, log[0].ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "redelivery", func() bool { return len(rcv.events()) >= 2 })
	got := rcv.events()
	if got[0].ID != got[1].ID {
		t.Errorf("redelivered %s; want the same event %s", got[1].ID, got[0].ID)
	}
	waitFor(t, 5*time.Second, "logged", func() bool {
		d, _ := st.GetDelivery(ctx, org, w.ID, re.ID)
		return d != nil && d.Status == roster.DeliverySucceeded
	})
}

func TestDeliveriesNeverLeaveToPrivateAddressesWithoutTheSwitch(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(t), nil)
	org := createOrg(t, st)
	rcv := newReceiver(t)
	w, secret, _ := svc.CreateWebhook(ctx, actor, org, rcv.srv.URL, nil)
	rcv.setSecret(secret)
	strict := &events.Dispatcher{Store: st, Service: svc, Poll: 10 * time.Millisecond,
		Client: outboundStrict(), Backoff: func(int) time.Duration { return time.Hour }}
	runDispatcher(t, strict)
	change(t, st, org)
	waitFor(t, 10*time.Second, "a refused attempt", func() bool {
		log, _, _ := st.ListDeliveries(ctx, org, w.ID, store.Page{})
		return len(log) == 1 && log[0].Attempts == 1
	})
	log, _, _ := st.ListDeliveries(ctx, org, w.ID, store.Page{})
	if !strings.Contains(log[0].Error, "address") || len(rcv.events()) != 0 {
		t.Errorf("delivery to loopback without ROSTER_ALLOW_PRIVATE_OUTBOUND: %+v, received %d", log[0], len(rcv.events()))
	}
}

// TestTwoReplicasOnPostgreSQLNeverDeliverConcurrentlyAndLoseNothing runs two dispatchers,
// each on its own store (own pool, own owner name), on one database, with writers in three
// organizations: each delivery is attempted by one replica at a time and every event arrives.
func TestTwoReplicasOnPostgreSQLNeverDeliverConcurrentlyAndLoseNothing(t *testing.T) {
	dsn := sqltest.PostgresDSN(t)
	ctx := context.Background()
	open := func() store.Store {
		s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	kr := keyringtest.New(t)
	svcA, svcB := events.NewService(a, kr, nil), events.NewService(b, kr, nil)
	rcv := newReceiver(t)
	secrets := map[string]string{}
	var orgs []string
	for range 3 {
		org := createOrg(t, a)
		orgs = append(orgs, org)
		_, s, err := svcA.CreateWebhook(ctx, actor, org, rcv.srv.URL+"/"+org, nil)
		if err != nil {
			t.Fatal(err)
		}
		secrets["/"+org] = s
	}
	rcv.mu.Lock()
	rcv.secrets = secrets // one receiver, three endpoints, each verified with its own secret
	rcv.mu.Unlock()
	var byA, byB atomic.Int64
	clientA, clientB := client(), client()
	clientA.Transport = counting{clientA.Transport, &byA}
	clientB.Transport = counting{clientB.Transport, &byB}
	// Short leases and one endpoint at a time per replica, so that the replicas keep taking
	// endpoints over from each other while the writers run.
	for _, r := range []struct {
		st     store.Store
		svc    *events.Service
		client *http.Client
		owner  string
	}{{a, svcA, clientA, "replica-a"}, {b, svcB, clientB, "replica-b"}} {
		runDispatcher(t, &events.Dispatcher{Store: r.st, Service: r.svc, Client: r.client, Owner: r.owner,
			Poll: 2 * time.Millisecond, Batch: 7, Concurrency: 1, Lease: 300 * time.Millisecond, Timeout: 100 * time.Millisecond,
			Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := []store.Store{a, b}[i%2]
			for j := range 40 {
				change(t, st, orgs[(i+j)%3])
			}
		}()
	}
	wg.Wait()
	waitFor(t, 30*time.Second, "all 240 events delivered", func() bool { return len(rcv.events()) >= 240 })
	time.Sleep(100 * time.Millisecond) // let any duplicate arrive
	got := rcv.events()
	rcv.mu.Lock()
	overlaps, bad := rcv.overlaps, rcv.bad
	rcv.mu.Unlock()
	if overlaps > 0 {
		t.Errorf("%d deliveries were in flight twice at once", overlaps)
	}
	if len(bad) > 0 {
		t.Errorf("the receiver refused: %v", bad)
	}
	if len(got) != 240 {
		t.Errorf("%d deliveries; want exactly 240 (none lost, none repeated)", len(got))
	}
	t.Logf("replica a sent %d deliveries, replica b %d", byA.Load(), byB.Load())
	if byA.Load() == 0 || byB.Load() == 0 {
		t.Errorf("one replica sent nothing: the test did not exercise two replicas")
	}
	for _, org := range orgs {
		want := allEvents(t, a, org)[2:]
		var seen []string
		for _, e := range got {
			if orgOf(e, want) {
				seen = append(seen, e.ID)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("org %s: %d delivered of %d", org, len(seen), len(want))
		}
		for i := range want {
			if seen[i] != want[i].ID {
				t.Fatalf("org %s: delivery %d is %s; want %s (event order)", org, i, seen[i], want[i].ID)
			}
		}
	}
}

func orgOf(e events.EventJSON, evs []roster.Event) bool {
	for _, x := range evs {
		if x.ID == e.ID {
			return true
		}
	}
	return false
}

// counting counts the requests a replica's client sends.
type counting struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// TestAShutdownDuringAnAttemptIsNoFailureOfTheEndpoint stops the dispatcher while the
// receiver holds an attempt: the endpoint's failure count stays as it was, and the delivery
// stays pending, to be sent again by the next dispatcher.
func TestAShutdownDuringAnAttemptIsNoFailureOfTheEndpoint(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(t), nil)
	org := createOrg(t, st)
	arrived, release := make(chan struct{}, 16), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)
	wh, _, err := svc.CreateWebhook(ctx, actor, org, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 10 * time.Millisecond}
	stop := runDispatcher(t, d)
	change(t, st, org)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt never reached the receiver")
	}
	stop()
	got, err := st.GetWebhook(ctx, org, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Failures != 0 || got.FailingSince != nil || !got.Enabled {
		t.Errorf("after a shutdown during an attempt: %d failures since %v, enabled %v; want none, enabled", got.Failures, got.FailingSince, got.Enabled)
	}
	log, _, err := st.ListDeliveries(ctx, org, wh.ID, store.Page{})
	if err != nil || len(log) != 1 || log[0].Status != roster.DeliveryPending || log[0].Attempts != 0 {
		t.Fatalf("delivery log %+v, %v; want one pending delivery with no attempt counted", log, err)
	}
}
