package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

func TestLastUsedTouchKeepsTheNewestTime(t *testing.T) {
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		touches []time.Time
		want    time.Time
	}{
		{"one use is kept", []time.Time{base}, base},
		{"a newer use replaces an older one", []time.Time{base, base.Add(time.Second)}, base.Add(time.Second)},
		{"an older use arriving late is ignored", []time.Time{base.Add(time.Second), base}, base.Add(time.Second)},
		{"the newest of many wins, in any order", []time.Time{base.Add(2 * time.Second), base, base.Add(5 * time.Second), base.Add(3 * time.Second)}, base.Add(5 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := auth.NewLastUsed(nil)
			for _, at := range tt.touches {
				l.Touch(store.OrgKeyCredential, "key-1", at)
			}
			got := l.Overlay(store.OrgKeyCredential, "key-1", nil)
			if got == nil || !got.Equal(tt.want) {
				t.Errorf("Overlay = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("uses of different credentials are kept apart", func(t *testing.T) {
		l := auth.NewLastUsed(nil)
		l.Touch(store.OrgKeyCredential, "id-1", base)
		l.Touch(store.DirectoryTokenCredential, "id-1", base.Add(time.Hour))
		l.Touch(store.OrgKeyCredential, "id-2", base.Add(2*time.Hour))
		if got := l.Overlay(store.OrgKeyCredential, "id-1", nil); got == nil || !got.Equal(base) {
			t.Errorf("org key id-1 used at %v, want %v", got, base)
		}
	})
}

func TestLastUsedOverlay(t *testing.T) {
	pending := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	pendingStored := pending.UTC().Truncate(time.Microsecond) // as the store would hold it
	older := pending.Add(-time.Hour)
	newer := pending.Add(time.Hour)
	tests := []struct {
		name    string
		pending bool
		stored  *time.Time
		want    *time.Time
	}{
		{"nothing pending and nothing stored is never used", false, nil, nil},
		{"nothing pending returns the stored time", false, &older, &older},
		{"a pending use of a never-used credential is returned", true, nil, &pendingStored},
		{"a pending use newer than the stored time is returned", true, &older, &pendingStored},
		{"a stored time newer than the pending use is kept", true, &newer, &newer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := auth.NewLastUsed(nil)
			if tt.pending {
				l.Touch(store.DirectoryTokenCredential, "tok-1", pending)
			}
			got := l.Overlay(store.DirectoryTokenCredential, "tok-1", tt.stored)
			switch {
			case tt.want == nil && got != nil:
				t.Errorf("Overlay = %v, want nil", *got)
			case tt.want != nil && got == nil:
				t.Errorf("Overlay = nil, want %v", *tt.want)
			case tt.want != nil && (!got.Equal(*tt.want) || got.Location() != tt.want.Location()):
				t.Errorf("Overlay = %v, want %v", *got, *tt.want)
			}
		})
	}
}

func TestLastUsedFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	key, secret := e.orgKey(t, nil)
	dir, token := e.directory(t, "Okta")

	storedUse := func(t *testing.T) *time.Time {
		t.Helper()
		k, err := st.GetOrgKey(ctx, e.org.ID, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}

	t.Run("flushing nothing is a no-op", func(t *testing.T) {
		if err := auth.NewLastUsed(st).Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storedUse(t); got != nil {
			t.Errorf("LastUsedAt = %v, want nil", *got)
		}
	})

	l := auth.NewLastUsed(st)
	at := time.Now().Add(-time.Minute)
	want := at.UTC().Truncate(time.Microsecond)

	t.Run("a touch writes nothing until flushed", func(t *testing.T) {
		l.Touch(store.OrgKeyCredential, key.ID, at)
		if got := storedUse(t); got != nil {
			t.Errorf("LastUsedAt = %v before the flush, want nil", *got)
		}
	})
	t.Run("a flush writes the use to the store", func(t *testing.T) {
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storedUse(t); got == nil || !got.Equal(want) {
			t.Errorf("LastUsedAt = %v, want %v", got, want)
		}
	})
	t.Run("a flushed use is no longer pending", func(t *testing.T) {
		if got := l.Overlay(store.OrgKeyCredential, key.ID, nil); got != nil {
			t.Errorf("Overlay = %v after the flush, want nil", *got)
		}
	})
	t.Run("flushing an older use never moves the stored time back", func(t *testing.T) {
		l.Touch(store.OrgKeyCredential, key.ID, at.Add(-time.Hour))
		if err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storedUse(t); got == nil || !got.Equal(want) {
			t.Errorf("LastUsedAt = %v, want %v", got, want)
		}
	})
	t.Run("authenticating records uses that the service's flush writes", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		if _, err := e.svc.AuthenticateBasic(ctx, key.PublicKey, secret); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AuthenticateBearer(ctx, token); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LastUsed().Flush(ctx); err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now()
		if got := storedUse(t); got == nil || !got.Equal(now) {
			t.Errorf("org key LastUsedAt = %v, want %v", got, now)
		}
		d, err := st.GetDirectory(ctx, e.org.ID, dir.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.TokenLastUsed == nil || !d.TokenLastUsed.Equal(now) {
			t.Errorf("directory token last used %v, want %v", d.TokenLastUsed, now)
		}
	})
}

func TestLastUsedFailedFlushKeepsUsesPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	key, _ := e.orgKey(t, nil)

	l := auth.NewLastUsed(st)
	at := time.Now().UTC().Truncate(time.Microsecond)
	l.Touch(store.OrgKeyCredential, key.ID, at)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx); err == nil {
		t.Fatal("Flush on a closed store succeeded, want an error")
	}
	if got := l.Overlay(store.OrgKeyCredential, key.ID, nil); got == nil || !got.Equal(at) {
		t.Errorf("after the failed flush Overlay = %v, want the pending use at %v", got, at)
	}
	t.Run("a use touched after the failure is merged with the kept one", func(t *testing.T) {
		later := at.Add(time.Second)
		l.Touch(store.OrgKeyCredential, key.ID, later)
		if err := l.Flush(ctx); err == nil {
			t.Fatal("Flush on a closed store succeeded, want an error")
		}
		if got := l.Overlay(store.OrgKeyCredential, key.ID, nil); got == nil || !got.Equal(later) {
			t.Errorf("Overlay = %v, want %v", got, later)
		}
	})
}

func TestLastUsedRunFlushesWhenStopped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	key, _ := e.orgKey(t, nil)

	l := auth.NewLastUsed(st)
	var logs bytes.Buffer
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		l.Run(runCtx, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
		close(done)
	}()
	at := time.Now().UTC().Truncate(time.Microsecond)
	l.Touch(store.OrgKeyCredential, key.ID, at)
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	k, err := st.GetOrgKey(ctx, e.org.ID, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(at) {
		t.Errorf("LastUsedAt = %v, want the use touched before the stop, %v", k.LastUsedAt, at)
	}
	if logs.Len() != 0 {
		t.Errorf("Run logged: %s", logs.String())
	}
}
