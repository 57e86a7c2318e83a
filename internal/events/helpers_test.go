package events_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

var actor = roster.SystemActor("events-test")

// backends runs fn on SQLite and, when ROSTER_TEST_POSTGRES is set, on PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqltest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, sqltest.Postgres(t)) })
}

// client is the outbound client as tests run it: ROSTER_ALLOW_PRIVATE_OUTBOUND=1, since the
// receiver listens on loopback.
func client() *http.Client {
	return outbound.New(outbound.Options{AllowPrivate: true, MaxRedirects: -1, Timeout: 5 * time.Second})
}

func createOrg(t testing.TB, st store.Store) string {
	t.Helper()
	o := &roster.Organization{Name: "Acme"}
	if err := st.Tx(context.Background(), actor, func(tx store.Tx) error { return tx.CreateOrganization(context.Background(), o) }); err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// change makes one write in org (an API key), so one event.
func change(t testing.TB, st store.Store, orgID string) {
	t.Helper()
	k := &roster.APIKey{OrgID: orgID, PublicKey: "pk-org-" + roster.NewID(), SecretHash: []byte("h" + roster.NewID()), Note: "test"}
	if err := st.Tx(context.Background(), actor, func(tx store.Tx) error { return tx.CreateOrgKey(context.Background(), k) }); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook receiver written from docs/events.md: it verifies the signature
// and refuses stale timestamps, and records what it accepted, in order.
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	secrets  map[string]string // by URL path, when endpoints differ
	got      []events.EventJSON
	sigs     []string
	fail     func(n int) int // status to answer the n-th request (0: 204)
	requests int
	bad      []string
	inFlight map[string]int
	overlaps int
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(events.EventIDHeader)
	r.mu.Lock()
	r.requests++
	n := r.requests
	secret := r.secret
	if s, ok := r.secrets[req.URL.Path]; ok {
		secret = s
	}
	r.inFlight[id]++
	if r.inFlight[id] > 1 {
		r.overlaps++
	}
	fail := r.fail
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.inFlight[id]--; r.mu.Unlock() }()
	time.Sleep(200 * time.Microsecond) // widen the window in which a duplicate would overlap

	if err := events.Verify(req.Header.Get(events.SignatureHeader), body, secret, time.Now(), events.DefaultTolerance); err != nil {
		r.mu.Lock()
		r.bad = append(r.bad, err.Error())
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if fail != nil {
		if code := fail(n); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	var e events.EventJSON
	if err := json.Unmarshal(body, &e); err != nil || e.ID != id || req.Header.Get("Content-Type") != "application/json" {
		r.mu.Lock()
		r.bad = append(r.bad, "bad body or event id header")
		r.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, e)
	r.sigs = append(r.sigs, req.Header.Get(events.SignatureHeader))
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) events() []events.EventJSON {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.EventJSON(nil), r.got...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runDispatcher starts d until the end of the test, or until the returned stop is called.
func runDispatcher(t testing.TB, d *events.Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func allEvents(t testing.TB, st store.Store, orgID string) []roster.Event {
	t.Helper()
	var out []roster.Event
	after := int64(0)
	for {
		page, err := st.ListEvents(context.Background(), orgID, after, nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

func outboundStrict() *http.Client {
	return outbound.New(outbound.Options{MaxRedirects: -1, Timeout: 5 * time.Second})
}
