package outbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newServer starts a loopback server and counts the requests it serves.
func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// get performs a GET and returns the body, closing it.
func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestLoopbackIsRefusedByDefault(t *testing.T) {
	srv, hits := newServer(t, ok)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{
		srv.URL,
		"http://localhost:" + strconv.Itoa(port) + "/",
	} {
		_, err := get(t, New(Options{}), u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET %s: error = %v, want ErrForbiddenAddress", u, err)
		}
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			t.Errorf("GET %s: error %T is not a *url.Error", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server served %d requests, want 0", n)
	}
}

func TestAllowPrivateReachesLoopback(t *testing.T) {
	srv, _ := newServer(t, ok)
	body, err := get(t, New(Options{AllowPrivate: true}), srv.URL)
	if err != nil {
		t.Fatalf("GET with AllowPrivate: %v", err)
	}
	if body != "ok" {
		t.Errorf("body = %q, want %q", body, "ok")
	}
}

// onlyTestServer is a dial policy that admits 127.0.0.1, where the test server listens, and
// applies the production policy to every other address.
func onlyTestServer(ip netip.Addr) error {
	if ip == netip.MustParseAddr("127.0.0.1") {
		return nil
	}
	return checkAddr(ip)
}

func TestRedirectToAForbiddenAddressIsRefused(t *testing.T) {
	var target string
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	// 127.0.0.2 is loopback, like the metadata service is link-local: reachable from the host,
	// and refused by the policy before any packet is sent.
	target = "http://127.0.0.2:" + strconv.Itoa(port) + "/internal"

	_, err := get(t, newClient(Options{}, onlyTestServer), srv.URL)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("error = %v, want ErrForbiddenAddress", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.2") {
		t.Errorf("error %q does not name the refused address", err)
	}
}

func TestRedirects(t *testing.T) {
	// /hop/N redirects to /hop/N-1; /hop/0 answers "done".
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		rest, found := strings.CutPrefix(r.URL.Path, "/hop/")
		n, err := strconv.Atoi(rest)
		switch {
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://127.0.0.1/file", http.StatusFound)
		case !found || err != nil:
			http.NotFound(w, r)
		case n == 0:
			_, _ = io.WriteString(w, "done")
		default:
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		}
	})
	tests := []struct {
		name         string
		maxRedirects int
		path         string
		wantErr      error
	}{
		{"a request without redirects succeeds", 0, "/hop/0", nil},
		{"three redirects are followed by default", 0, "/hop/3", nil},
		{"a fourth redirect is refused by default", 0, "/hop/4", ErrTooManyRedirects},
		{"one redirect is followed when one is allowed", 1, "/hop/1", nil},
		{"a second redirect is refused when one is allowed", 1, "/hop/2", ErrTooManyRedirects},
		{"a negative limit follows no redirect", -1, "/hop/1", ErrTooManyRedirects},
		{"a redirect to another scheme is refused", 0, "/ftp", ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{AllowPrivate: true, MaxRedirects: tt.maxRedirects})
			body, err := get(t, c, srv.URL+tt.path)
			if tt.wantErr == nil {
				if err != nil || body != "done" {
					t.Fatalf("GET %s = %q, %v; want %q", tt.path, body, err, "done")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GET %s: error = %v, want %v", tt.path, err, tt.wantErr)
			}
		})
	}
}

func TestResponseBodiesAreCapped(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		_, _ = w.Write(bytes.Repeat([]byte("x"), n))
	})
	const limit = 1000
	tests := []struct {
		name   string
		max    int64
		size   int
		tooBig bool
	}{
		{"an empty body is read", limit, 0, false},
		{"a body one byte under the limit is read whole", limit, limit - 1, false},
		{"a body of exactly the limit is read whole", limit, limit, false},
		{"a body one byte over the limit fails", limit, limit + 1, true},
		{"a much larger body fails", limit, 100 * limit, true},
		{"a body of 1 MiB is read under the default limit", 0, DefaultMaxResponseBytes, false},
		{"a body one byte over 1 MiB fails under the default limit", 0, DefaultMaxResponseBytes + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{AllowPrivate: true, MaxResponseBytes: tt.max})
			t.Cleanup(c.CloseIdleConnections)
			resp, err := c.Get(srv.URL + "/?n=" + strconv.Itoa(tt.size))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			limit := tt.max
			if limit == 0 {
				limit = DefaultMaxResponseBytes
			}
			if int64(len(b)) > limit {
				t.Errorf("read %d bytes, more than the limit %d", len(b), limit)
			}
			if tt.tooBig {
				if !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("ReadAll error = %v, want ErrResponseTooLarge", err)
				}
				if _, err := resp.Body.Read(make([]byte, 10)); !errors.Is(err, ErrResponseTooLarge) {
					t.Errorf("a Read after the limit was exceeded: error = %v, want ErrResponseTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if len(b) != tt.size {
				t.Errorf("read %d bytes, want %d", len(b), tt.size)
			}
		})
	}
}

func TestSlowServersTimeOut(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	start := time.Now()
	_, err := get(t, New(Options{AllowPrivate: true, Timeout: 100 * time.Millisecond}), srv.URL)
	var uerr *url.Error
	if !errors.As(err, &uerr) || !uerr.Timeout() {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("the request took %v despite a 100ms timeout", elapsed)
	}
}

func TestUserAgent(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.UserAgent())
	})
	tests := []struct {
		name   string
		option string
		header string
		want   string
	}{
		{"the default names Roster", "", "", DefaultUserAgent},
		{"the option is sent when the request sets none", "Roster/1.2 (+https://roster.example)", "", "Roster/1.2 (+https://roster.example)"},
		{"a request's own User-Agent is kept", "Roster/1.2", "custom/0.1", "custom/0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{AllowPrivate: true, UserAgent: tt.option})
			t.Cleanup(c.CloseIdleConnections)
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("User-Agent", tt.header)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.want {
				t.Errorf("server saw User-Agent %q, want %q", b, tt.want)
			}
			if tt.header == "" && req.Header.Get("User-Agent") != "" {
				t.Errorf("the caller's request was modified")
			}
		})
	}
}

func TestEnvironmentProxiesAreIgnored(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
	for _, c := range []*http.Client{New(Options{}), New(Options{AllowPrivate: true})} {
		tr, ok := c.Transport.(*transport)
		if !ok {
			t.Fatalf("Transport is %T", c.Transport)
		}
		if tr.base.Proxy != nil {
			t.Error("the transport consults a proxy function")
		}
	}
}

func TestOnlyHTTPAndHTTPSAreRequested(t *testing.T) {
	c := New(Options{AllowPrivate: true})
	tr := c.Transport
	for _, u := range []string{"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_"} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.RoundTrip(req); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("RoundTrip(%s): error = %v, want ErrInvalidURL", u, err)
		}
	}
}
