package events_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// BenchmarkDeliveryThroughput measures how fast the dispatcher drains a backlog to one local
// receiver that verifies every signature: each iteration writes 1000 events (in 10
// transactions of 100) before the timer starts, then times their delivery. docs/performance.md.
func BenchmarkDeliveryThroughput(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchDelivery(b, sqltest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchDelivery(b, sqltest.Postgres(b)) })
}

func benchDelivery(b *testing.B, st store.Store) {
	ctx := context.Background()
	svc := events.NewService(st, keyringtest.New(b), nil)
	org := createOrg(b, st)
	var got atomic.Int64
	var secret atomic.Value
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		if err := events.Verify(r.Header.Get(events.SignatureHeader), body, secret.Load().(string), time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		got.Add(1)
		w.WriteHeader(204)
	}))
	b.Cleanup(rcv.Close)
	_, s, err := svc.CreateWebhook(ctx, actor, org, rcv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	secret.Store(s)
	// The backlog is written first, then the dispatcher starts: the timer covers delivery only.
	want := int64(b.N) * 1000
	for range b.N * 10 {
		if err := st.Tx(ctx, actor, func(tx store.Tx) error {
			for range 100 {
				k := &roster.APIKey{OrgID: org, PublicKey: "pk-org-" + roster.NewID(), SecretHash: []byte(roster.NewID())}
				if err := tx.CreateOrgKey(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	runDispatcher(b, &events.Dispatcher{Store: st, Service: svc, Client: client(), Poll: 5 * time.Millisecond})
	for got.Load() < want {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(want)/b.Elapsed().Seconds(), "events/s")
}
