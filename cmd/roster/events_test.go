package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestEventSettingsAreValidatedAsUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"a negative retention", nil, []string{"serve", "--events-retention", "-1h"}, "retention"},
		{"a malformed retention twin", []string{"ROSTER_AUDIT_RETENTION", "forever"}, []string{"serve"}, "ROSTER_AUDIT_RETENTION"},
		{"a lease not above twice the timeout", nil, []string{"serve", "--webhook-timeout", "10s", "--webhook-lease", "15s"}, "--webhook-lease"},
		{"a malformed lease twin", []string{"ROSTER_WEBHOOK_LEASE", "long"}, []string{"serve"}, "ROSTER_WEBHOOK_LEASE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cli(t, env(append([]string{"ROSTER_DATABASE", db}, tc.env...)...), tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 naming %s", code, errOut, tc.want)
			}
		})
	}
}

func TestRetentionZeroKeepsForeverAndServesNormally(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db, "ROSTER_AUDIT_RETENTION", "0", "ROSTER_EVENTS_RETENTION", "0s")
	f := newFixture(t, e, "Acme")
	srv := serve(t, e)
	code, body := call(t, "GET", srv.url+"/api/public/events", basic(f.pk, f.sk), nil)
	if code != 200 || len(body["events"].([]any)) != 3 {
		t.Fatalf("events after start with retention 0: %d %v; want the fixture's 3", code, body)
	}
}
