package scim_test

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// The cost of the outbox on a SCIM create: the same benchmark as BenchmarkCreateUser, with
// events written (as a server runs) and with the outbox turned off. docs/performance.md.

func benchCreate(b *testing.B, st *sqlstore.Store) {
	e := newEnvOn(b, st)
	h := e.handler
	var n atomic.Int64
	b.SetParallelism(8)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body, _ := json.Marshal(user(fmt.Sprintf("ob-%d@example.com", i), fmt.Sprintf("x-%d", i)))
			if code := benchDo(b, h, e.token, "POST", "/scim/v2/Users", body); code != 201 {
				b.Fatalf("status %d", code)
			}
		}
	})
	b.StopTimer()
	// Process CPU per create (server and store, plus the in-process client): steadier than
	// wall time on a shared machine, where the fsync of each group commit dominates.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkCreateUserOutbox(b *testing.B) {
	b.Run("sqlite/events", func(b *testing.B) { benchCreate(b, sqltest.SQLiteWith(b, sqlstore.Options{})) })
	b.Run("sqlite/no-events", func(b *testing.B) { benchCreate(b, sqltest.SQLiteWith(b, sqlstore.Options{NoEvents: true})) })
	b.Run("postgres/events", func(b *testing.B) { benchCreate(b, sqltest.PostgresWith(b, sqlstore.Options{})) })
	b.Run("postgres/no-events", func(b *testing.B) { benchCreate(b, sqltest.PostgresWith(b, sqlstore.Options{NoEvents: true})) })
}

// benchCreateOrgs spreads the same writers over eight organizations, each with its own
// directory: on PostgreSQL the outbox serialises the commits of one organization only.
func benchCreateOrgs(b *testing.B, st *sqlstore.Store) {
	var envs []*env
	for range 8 {
		envs = append(envs, newEnvOn(b, st))
	}
	var n atomic.Int64
	b.SetParallelism(8)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			e := envs[i%int64(len(envs))]
			body, _ := json.Marshal(user(fmt.Sprintf("ob-%d@example.com", i), fmt.Sprintf("x-%d", i)))
			if code := benchDo(b, e.handler, e.token, "POST", "/scim/v2/Users", body); code != 201 {
				b.Fatalf("status %d", code)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func BenchmarkCreateUserOutboxEightOrgs(b *testing.B) {
	b.Run("postgres/events", func(b *testing.B) { benchCreateOrgs(b, sqltest.PostgresWith(b, sqlstore.Options{})) })
	b.Run("postgres/no-events", func(b *testing.B) { benchCreateOrgs(b, sqltest.PostgresWith(b, sqlstore.Options{NoEvents: true})) })
}
