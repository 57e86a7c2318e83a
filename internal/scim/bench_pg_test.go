package scim_test

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

func BenchmarkCreateUserPostgres(b *testing.B) {
	e := newEnvOn(b, sqltest.Postgres(b))
	h := e.handler
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body, _ := json.Marshal(user(fmt.Sprintf("pg-%d@example.com", i), fmt.Sprintf("x-%d", i)))
			if code := benchDo(b, h, e.token, "POST", "/scim/v2/Users", body); code != 201 {
				b.Fatalf("status %d", code)
			}
		}
	})
}
