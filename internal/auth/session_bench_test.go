package auth_test

import (
	"net/http/httptest"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// BenchmarkSessionRead is what a cookie-authenticated request pays to know who it is: one
// indexed lookup joining the member and its membership, and no write (touches are coalesced
// to one a minute per session).
//
//	go test -run XXX -bench SessionRead ./internal/auth/
func BenchmarkSessionRead(b *testing.B) {
	e := newSessionEnv(b, sqltest.SQLite(b), auth.SessionConfig{})
	r := withCookie(e.start(b, httptest.NewRequest("POST", "/login", nil)))
	for b.Loop() {
		if _, _, err := e.s.Read(r); err != nil {
			b.Fatal(err)
		}
	}
}
