package outbound

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Defaults for the zero Options, sized for webhook deliveries and identity-provider documents:
// an IdP that has not answered in 10 seconds is down, and no metadata, discovery document or
// JWKS Roster reads is near 1 MiB.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRedirects     = 3
	DefaultMaxResponseBytes = 1 << 20
	DefaultUserAgent        = "Roster"
)

// maxHeaderBytes bounds response headers, which the body cap does not cover.
const maxHeaderBytes = 64 << 10

// ErrResponseTooLarge is returned by a response body's Read once the body proves longer than
// Options.MaxResponseBytes, so that an oversized document fails loudly instead of being parsed
// truncated.
var ErrResponseTooLarge = errors.New("outbound: response body exceeds the size limit")

// ErrTooManyRedirects reports a chain of redirects longer than Options.MaxRedirects.
var ErrTooManyRedirects = errors.New("outbound: too many redirects")

// Options configure New. The zero value is the production setting.
type Options struct {
	// AllowPrivate lifts the address check, so that loopback, private and link-local addresses
	// may be reached. The caller sets it from ROSTER_ALLOW_PRIVATE_OUTBOUND=1, for development
	// and for IdPs on a private network.
	AllowPrivate bool
	// Timeout bounds a whole request: connecting, every redirect, and reading the body.
	// Zero or less means DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects is the number of redirects followed before a request fails with
	// ErrTooManyRedirects. Zero means DefaultMaxRedirects; a negative value follows none.
	MaxRedirects int
	// MaxResponseBytes caps how much of a response body may be read before Read fails with
	// ErrResponseTooLarge. Zero or less means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// UserAgent is sent when a request sets none, so receivers can tell Roster's requests
	// apart. Empty means DefaultUserAgent.
	UserAgent string
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	return o
}

// New returns the client for requests to admin-typed addresses. It refuses, when connecting,
// any address that is not public unicast (unless opts.AllowPrivate), with an error wrapping
// ErrForbiddenAddress; requests only http and https URLs; follows at most opts.MaxRedirects
// redirects, each checked like the first; ignores proxy settings in the environment; and fails
// reads past opts.MaxResponseBytes with ErrResponseTooLarge.
//
// Each call builds its own connection pool, so create one client at startup and share it; it
// is safe for concurrent use.
func New(opts Options) *http.Client {
	if opts.AllowPrivate {
		return newClient(opts, nil)
	}
	return newClient(opts, checkAddr)
}

// newClient builds the client with check as the dial policy (nil allows every address), so
// that tests can permit their loopback server and still exercise the policy.
func newClient(opts Options, check func(netip.Addr) error) *http.Client {
	opts = opts.withDefaults()
	dialer := &net.Dialer{
		Timeout:   opts.Timeout,
		KeepAlive: 30 * time.Second,
	}
	if check != nil {
		dialer.Control = dialControl(check)
	}
	base := &http.Transport{
		// Never from the environment: a proxy connects on our behalf, out of the dialer's sight.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	return &http.Client{
		Transport: &transport{
			base:      base,
			maxBody:   opts.MaxResponseBytes,
			userAgent: opts.UserAgent,
		},
		CheckRedirect: checkRedirect(opts.MaxRedirects),
		Timeout:       opts.Timeout,
	}
}

// checkRedirect limits redirects (RFC 9110 section 15.4) in number and scheme. The address of
// each hop needs no check here: its connection goes through the same dialer.
func checkRedirect(maxRedirects int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !allowedScheme(req.URL.Scheme) {
			return fmt.Errorf("%w: redirect to scheme %q; only https and http are followed", ErrInvalidURL, req.URL.Scheme)
		}
		// via holds the requests already made, so len(via) is the number of this redirect.
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, max(maxRedirects, 0))
		}
		return nil
	}
}

// transport checks schemes, sets the User-Agent and caps response bodies around an
// http.Transport.
type transport struct {
	base      *http.Transport
	maxBody   int64
	userAgent string
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !allowedScheme(req.URL.Scheme) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: scheme %q; only https and http are requested", ErrInvalidURL, req.URL.Scheme)
	}
	if req.Header.Get("User-Agent") == "" {
		// A RoundTripper must not modify the caller's request.
		req = req.Clone(req.Context())
		if req.Header == nil {
			req.Header = make(http.Header)
		}
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{body: resp.Body, remaining: t.maxBody}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// cappedBody fails a read that would take the body past its limit. Unlike io.LimitReader it
// does not report a truncated body as complete.
type cappedBody struct {
	body      io.ReadCloser
	remaining int64 // bytes still allowed; -1 once the limit was exceeded
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.remaining < 0 {
		return 0, ErrResponseTooLarge
	}
	// Ask for one byte beyond the limit, to learn whether the body ends within it.
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.body.Read(p)
	if int64(n) > b.remaining {
		n = int(b.remaining)
		b.remaining = -1
		return n, ErrResponseTooLarge
	}
	b.remaining -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.body.Close() }
