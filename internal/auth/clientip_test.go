package auth_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
)

func mustTrust(t *testing.T, s string) auth.TrustedProxies {
	t.Helper()
	tp, err := auth.ParseTrustedProxies(s)
	if err != nil {
		t.Fatalf("ParseTrustedProxies(%q): %v", s, err)
	}
	return tp
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		remote  string
		xff     []string // one entry per X-Forwarded-For header line
		want    string
	}{
		{
			name:   "without trusted proxies the client is the TCP peer",
			remote: "203.0.113.7:51234",
			want:   "203.0.113.7",
		},
		{
			name:   "without trusted proxies X-Forwarded-For is ignored",
			remote: "203.0.113.7:51234",
			xff:    []string{"198.51.100.1"},
			want:   "203.0.113.7",
		},
		{
			name:    "a peer that is not a trusted proxy is the client, whatever it forwards",
			trusted: "10.0.0.0/8",
			remote:  "203.0.113.7:51234",
			xff:     []string{"198.51.100.1"},
			want:    "203.0.113.7",
		},
		{
			name:    "behind a trusted proxy the client is the right-most forwarded address",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "spoofed left-most entries are ignored",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"1.2.3.4, 5.6.7.8, 203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "several trusted hops are skipped",
			trusted: "10.0.0.0/8, 192.168.1.5",
			remote:  "10.0.0.1:443",
			xff:     []string{"1.2.3.4, 203.0.113.7, 192.168.1.5, 10.0.0.3"},
			want:    "203.0.113.7",
		},
		{
			name:    "X-Forwarded-For split over several header lines is read as one list",
			trusted: "10.0.0.0/8",
			remote:  "10.0.0.1:443",
			xff:     []string{"1.2.3.4, 203.0.113.7", "10.0.0.2"},
			want:    "203.0.113.7",
		},
		{
			name:    "spaces around entries do not matter",
			trusted: "10.0.0.0/8",
			remote:  "10.0.0.1:443",
			xff:     []string{"  203.0.113.7  ,   10.0.0.2 "},
			want:    "203.0.113.7",
		},
		{
			name:    "when every hop is a trusted proxy the left-most is the client",
			trusted: "10.0.0.0/8",
			remote:  "10.0.0.1:443",
			xff:     []string{"10.0.0.3, 10.0.0.2"},
			want:    "10.0.0.3",
		},
		{
			name:    "a trusted proxy without X-Forwarded-For is itself the client",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			want:    "10.0.0.1",
		},
		{
			name:    "a garbage right-most entry is not believed: the trusted peer is the client",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7, not-an-address"},
			want:    "10.0.0.1",
		},
		{
			name:    "an empty right-most entry is not believed either",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7,"},
			want:    "10.0.0.1",
		},
		{
			name:    "an address with a port is garbage too",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7:1234"},
			want:    "10.0.0.1",
		},
		{
			name:    "garbage behind trusted hops stops at the last address a trusted proxy vouched for",
			trusted: "10.0.0.0/8",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7, garbage, 10.0.0.2"},
			want:    "10.0.0.2",
		},
		{
			name:    "garbage to the left of the client is never reached",
			trusted: "10.0.0.0/8",
			remote:  "10.0.0.1:443",
			xff:     []string{"garbage, 203.0.113.7, 10.0.0.2"},
			want:    "203.0.113.7",
		},
		{
			name:   "an IPv6 peer is the client, without brackets",
			remote: "[2001:db8::7]:51234",
			want:   "2001:db8::7",
		},
		{
			name:   "an IPv4-mapped IPv6 peer is reported as IPv4",
			remote: "[::ffff:203.0.113.7]:51234",
			want:   "203.0.113.7",
		},
		{
			name:    "an IPv4-mapped peer matches a trusted IPv4 proxy",
			trusted: "10.0.0.0/8",
			remote:  "[::ffff:10.0.0.1]:443",
			xff:     []string{"203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "an IPv4-mapped peer matches a trusted IPv4-mapped prefix",
			trusted: "::ffff:10.0.0.0/104",
			remote:  "[::ffff:10.0.0.1]:443",
			xff:     []string{"203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "an IPv4 peer matches a trusted IPv4-mapped address",
			trusted: "::ffff:10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "an IPv4-mapped forwarded address is reported as IPv4",
			trusted: "10.0.0.1",
			remote:  "10.0.0.1:443",
			xff:     []string{"::ffff:203.0.113.7"},
			want:    "203.0.113.7",
		},
		{
			name:    "an IPv6 trusted proxy forwarding an IPv6 client",
			trusted: "2001:db8:ffff::/48",
			remote:  "[2001:db8:ffff::1]:443",
			xff:     []string{"2001:db8:1::7, 2001:db8:ffff::2"},
			want:    "2001:db8:1::7",
		},
		{
			name:   "a peer address without a port is still read",
			remote: "203.0.113.7",
			want:   "203.0.113.7",
		},
		{
			name:    "a peer that is not an address at all is reported as it is",
			trusted: "10.0.0.0/8",
			remote:  "@",
			xff:     []string{"203.0.113.7"},
			want:    "@",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := mustTrust(t, tt.trusted).ClientIP(r); got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want auth.TrustedProxies
	}{
		{"an empty value trusts nobody", "", nil},
		{"blanks and stray commas trust nobody", " , ,", nil},
		{"a single IPv4 address is a /32", "10.0.0.1", auth.TrustedProxies{netip.MustParsePrefix("10.0.0.1/32")}},
		{"a single IPv6 address is a /128", "2001:db8::1", auth.TrustedProxies{netip.MustParsePrefix("2001:db8::1/128")}},
		{"an IPv4-mapped address is stored as IPv4", "::ffff:10.0.0.1", auth.TrustedProxies{netip.MustParsePrefix("10.0.0.1/32")}},
		{"an IPv4-mapped prefix is stored as IPv4", "::ffff:10.0.0.0/104", auth.TrustedProxies{netip.MustParsePrefix("10.0.0.0/8")}},
		{"a prefix with host bits set is masked", "10.1.2.3/8", auth.TrustedProxies{netip.MustParsePrefix("10.0.0.0/8")}},
		{
			"a comma-separated list keeps its order, spaces trimmed",
			" 10.0.0.0/8 ,192.168.1.5, fd00::/8 ",
			auth.TrustedProxies{
				netip.MustParsePrefix("10.0.0.0/8"),
				netip.MustParsePrefix("192.168.1.5/32"),
				netip.MustParsePrefix("fd00::/8"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseTrustedProxies(tt.in)
			if err != nil {
				t.Fatalf("ParseTrustedProxies(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ParseTrustedProxies(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}

	errs := []struct {
		name string
		in   string
	}{
		{"a host name is refused", "proxy.internal"},
		{"an address with a port is refused", "10.0.0.1:8080"},
		{"a prefix length out of range is refused", "10.0.0.0/33"},
		{"a prefix without a length is refused", "10.0.0.0/"},
		{"one bad entry among good ones is refused", "10.0.0.1, nonsense, 10.0.0.2"},
		{"an IPv6 address in brackets is refused", "[2001:db8::1]"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseTrustedProxies(tt.in)
			if err == nil {
				t.Fatalf("ParseTrustedProxies(%q) = %v, want an error", tt.in, got)
			}
			if got != nil {
				t.Errorf("ParseTrustedProxies(%q) returned %v with its error, want nil", tt.in, got)
			}
		})
	}
}

func TestViaTrustedProxy(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		remote  string
		proto   string
		tls     bool
		want    bool
	}{
		{"a TLS connection is secure by itself", "", "203.0.113.7:51234", "", true, true},
		{"plain HTTP without proxies is not", "", "203.0.113.7:51234", "", false, false},
		{"X-Forwarded-Proto from an untrusted peer is ignored", "10.0.0.0/8", "203.0.113.7:51234", "https", false, false},
		{"X-Forwarded-Proto https from a trusted proxy is believed", "10.0.0.0/8", "10.0.0.1:443", "https", false, true},
		{"its case does not matter", "10.0.0.0/8", "10.0.0.1:443", "HTTPS", false, true},
		{"X-Forwarded-Proto http from a trusted proxy is not secure", "10.0.0.0/8", "10.0.0.1:443", "http", false, false},
		{"a trusted proxy that says nothing is not secure", "10.0.0.0/8", "10.0.0.1:443", "", false, false},
		{"an IPv4-mapped trusted peer is believed", "10.0.0.0/8", "[::ffff:10.0.0.1]:443", "https", false, true},
		{"an IPv6 trusted peer is believed", "fd00::/8", "[fd00::1]:443", "https", false, true},
		{"a peer without a port is not believed", "10.0.0.0/8", "10.0.0.1", "https", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/login", nil)
			r.RemoteAddr = tt.remote
			r.TLS = nil
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if got := mustTrust(t, tt.trusted).ViaTrustedProxy(r); got != tt.want {
				t.Errorf("ViaTrustedProxy = %v, want %v", got, tt.want)
			}
		})
	}
}
