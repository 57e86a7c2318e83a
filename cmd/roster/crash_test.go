package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

// childEnv, when set, makes the test binary act as the roster binary: its value is the
// command line (JSON array) to run. The crash test re-executes itself this way so that it can
// SIGKILL a real `roster serve` process without a separate build.
const childEnv = "ROSTER_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(exitCode(err, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is a `roster serve` process.
type child struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func startChild(t *testing.T, environ []string, args ...string) *child {
	t.Helper()
	raw, _ := json.Marshal(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), environ...), childEnv+"="+string(raw))
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logs: logs}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg     string `json:"msg"`
				BaseURL string `json:"base_url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				select {
				case found <- rec.BaseURL:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); pw.Close() })
	select {
	case c.url = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("roster serve did not start:\n%s", logs.String())
	}
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// crashReceiver verifies every delivery and counts them by event id.
type crashReceiver struct {
	mu     sync.Mutex
	secret string
	got    map[string]int
	bad    int
}

func (r *crashReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := events.Verify(req.Header.Get(events.SignatureHeader), body, r.secret, time.Now(), events.DefaultTolerance); err != nil {
		r.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	r.got[req.Header.Get(events.EventIDHeader)]++
	w.WriteHeader(http.StatusNoContent)
}

// TestASIGKILLDuringABurstOfSCIMWritesLosesNoAcknowledgedEventAndEveryEventIsDelivered is
// point 5 of the events issue: a real server process is killed with SIGKILL while identity
// providers push users; after a restart, every user whose creation was acknowledged (201) has
// its user.created event, and every event reaches the webhook receiver.
func TestASIGKILLDuringABurstOfSCIMWritesLosesNoAcknowledgedEventAndEveryEventIsDelivered(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		crashTest(t, []string{"ROSTER_DATABASE=" + filepath.Join(t.TempDir(), "roster.db")})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqltest.PostgresDSN(t)
		key, err := keyring.Generate()
		if err != nil {
			t.Fatal(err)
		}
		crashTest(t, []string{"ROSTER_DATABASE=" + dsn, "ROSTER_SECRET_KEY=" + key})
	})
}

func crashTest(t *testing.T, environ []string) {
	// A short lease: the killed process's lease on the endpoint delays the restarted one by
	// at most that.
	environ = append(environ, "ROSTER_ALLOW_PRIVATE_OUTBOUND=1", "ROSTER_WEBHOOK_TIMEOUT=1s", "ROSTER_WEBHOOK_LEASE=3s")
	getenv := func(k string) string {
		for _, kv := range environ {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v
			}
		}
		return ""
	}
	f := newFixture(t, getenv, "Acme")
	rcv := &crashReceiver{got: map[string]int{}}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)

	one := startChild(t, environ)
	code, created := call(t, "POST", one.url+"/api/public/webhooks", basic(f.pk, f.sk), map[string]any{"url": hook.URL})
	if code != 201 {
		t.Fatalf("creating the webhook: %d %v", code, created)
	}
	rcv.mu.Lock()
	rcv.secret = created["secret"].(string)
	rcv.mu.Unlock()

	// The burst: sixteen identity-provider connections creating users until the kill.
	var acked sync.Map
	var nAcked atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
					"userName": fmt.Sprintf("u%d-%d@example.com", w, i), "active": true})
				req, _ := http.NewRequest("POST", one.url+"/scim/v2/Users", bytes.NewReader(body))
				req.Header.Set("Authorization", bearer(f.token))
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					var u struct{ ID string }
					if json.Unmarshal(raw, &u) == nil && u.ID != "" {
						acked.Store(u.ID, true)
						nAcked.Add(1)
					}
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for nAcked.Load() < 150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	one.kill(t)
	stop.Store(true)
	rcv.mu.Lock()
	beforeKill := len(rcv.got)
	rcv.mu.Unlock()
	wg.Wait()
	if nAcked.Load() < 150 {
		t.Fatalf("only %d creations were acknowledged before the kill", nAcked.Load())
	}

	two := startChild(t, environ)
	// Every acknowledged creation has its event.
	var all []events.EventJSON
	after := ""
	for {
		url := two.url + "/api/public/events?limit=1000"
		if after != "" {
			url += "&after=" + after
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", basic(f.pk, f.sk))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []events.EventJSON `json:"events"`
			Cursor string             `json:"cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("events API: %d %v", resp.StatusCode, err)
		}
		all = append(all, page.Events...)
		if len(page.Events) == 0 {
			break
		}
		after = page.Cursor
	}
	created2 := map[string]bool{}
	var afterHook []events.EventJSON
	hookSeen := false
	for _, e := range all {
		if hookSeen {
			afterHook = append(afterHook, e)
		}
		if e.Type == "webhook.created" {
			hookSeen = true
		}
		if e.Type == "user.created" {
			var u struct {
				ID      string   `json:"id"`
				Schemas []string `json:"schemas"`
			}
			if err := json.Unmarshal(e.Data, &u); err != nil || len(u.Schemas) == 0 {
				t.Fatalf("user.created data is not a SCIM user: %s", e.Data)
			}
			created2[u.ID] = true
		}
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !created2[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged creations have no user.created event after the crash", missing, nAcked.Load())
	}
	// Every event is delivered, after the restart, at least once (a delivery in flight at
	// the kill may be repeated: receivers de-duplicate by Roster-Event-Id).
	waitUntil := time.Now().Add(60 * time.Second)
	for {
		rcv.mu.Lock()
		undelivered := 0
		for _, e := range afterHook {
			if rcv.got[e.ID] == 0 {
				undelivered++
			}
		}
		bad := rcv.bad
		rcv.mu.Unlock()
		if bad > 0 {
			t.Fatalf("the receiver refused %d deliveries with bad signatures", bad)
		}
		if undelivered == 0 {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("%d of %d events never delivered after the restart\n%s", undelivered, len(afterHook), two.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d creations acknowledged before SIGKILL, %d events (%d delivered before the kill), all delivered after the restart",
		nAcked.Load(), len(afterHook), beforeKill)
}
