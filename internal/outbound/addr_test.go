package outbound

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		ip        string
		forbidden bool
	}{
		// Public addresses are allowed.
		{"a public IPv4 address is allowed", "8.8.8.8", false},
		{"another public IPv4 address is allowed", "1.1.1.1", false},
		{"a public IPv6 address is allowed", "2606:4700:4700::1111", false},
		{"an IPv4-mapped public address is allowed", "::ffff:8.8.8.8", false},
		{"a NAT64 form of a public address is allowed", "64:ff9b::808:808", false},
		{"a 6to4 form of a public address is allowed", "2002:808:808::1", false},
		{"the address just below CGNAT is allowed", "100.63.255.255", false},
		{"the address just above CGNAT is allowed", "100.128.0.0", false},
		{"the address just above 172.16/12 is allowed", "172.32.0.1", false},
		{"the address just below link-local is allowed", "169.253.255.255", false},
		{"the address just below multicast is allowed", "223.255.255.255", false},

		// IPv4 special ranges are refused.
		{"the loopback address is refused", "127.0.0.1", true},
		{"any address in 127/8 is refused", "127.1.2.3", true},
		{"a 10/8 private address is refused", "10.0.0.1", true},
		{"a 172.16/12 private address is refused", "172.31.255.255", true},
		{"a 192.168/16 private address is refused", "192.168.1.1", true},
		{"the cloud metadata address is refused as link-local", "169.254.169.254", true},
		{"a CGNAT address is refused", "100.64.0.1", true},
		{"the unspecified IPv4 address is refused", "0.0.0.0", true},
		{"an address in 0.0.0.0/8 is refused", "0.1.2.3", true},
		{"a multicast address is refused", "224.0.0.1", true},
		{"the broadcast address is refused", "255.255.255.255", true},
		{"a reserved class E address is refused", "240.0.0.1", true},
		{"a benchmarking address is refused", "198.18.0.1", true},
		{"a documentation address is refused", "192.0.2.1", true},
		{"an IETF protocol assignment address is refused", "192.0.0.170", true},

		// IPv6 special ranges are refused.
		{"the IPv6 loopback address is refused", "::1", true},
		{"the unspecified IPv6 address is refused", "::", true},
		{"a unique local address is refused", "fd00::1", true},
		{"the lowest unique local address is refused", "fc00::", true},
		{"a link-local IPv6 address is refused", "fe80::1", true},
		{"a link-local IPv6 address with a zone is refused", "fe80::1%eth0", true},
		{"a site-local IPv6 address is refused", "fec0::1", true},
		{"an IPv6 multicast address is refused", "ff02::1", true},
		{"an IPv6 documentation address is refused", "2001:db8::1", true},
		{"a discard-only address is refused", "100::1", true},
		{"a local-use NAT64 address is refused", "64:ff9b:1::a00:1", true},
		{"an IPv4-compatible loopback address is refused", "::127.0.0.1", true},
		{"an IPv4-compatible public address is refused as deprecated", "::8.8.8.8", true},

		// IPv4 addresses in IPv6 clothing are refused like the IPv4 address.
		{"an IPv4-mapped loopback address is refused", "::ffff:127.0.0.1", true},
		{"an IPv4-mapped metadata address is refused", "::ffff:169.254.169.254", true},
		{"an IPv4-mapped private address is refused", "::ffff:10.0.0.1", true},
		{"an IPv4-mapped CGNAT address is refused", "::ffff:100.64.0.1", true},
		{"an IPv4-mapped unspecified address is refused", "::ffff:0.0.0.0", true},
		{"an IPv4-mapped broadcast address is refused", "::ffff:255.255.255.255", true},
		{"a NAT64 form of loopback is refused", "64:ff9b::7f00:1", true},
		{"a NAT64 form of the metadata address is refused", "64:ff9b::169.254.169.254", true},
		{"a NAT64 form of a private address is refused", "64:ff9b::c0a8:101", true},
		{"an IPv4-translated form of loopback is refused", "::ffff:0:127.0.0.1", true},
		{"a 6to4 form of a private address is refused", "2002:c0a8:101::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			reason := classify(ip)
			if got := reason != ""; got != tt.forbidden {
				t.Errorf("classify(%s) = %q; forbidden = %v, want %v", ip, reason, got, tt.forbidden)
			}
			err := checkAddr(ip)
			if tt.forbidden != errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("checkAddr(%s) = %v", ip, err)
			}
		})
	}
}

func TestClassifyRefusesTheZeroAddr(t *testing.T) {
	if classify(netip.Addr{}) == "" {
		t.Error("the zero netip.Addr is classified as public")
	}
}

func TestForbiddenAddressErrorsSayWhy(t *testing.T) {
	err := checkAddr(netip.MustParseAddr("::ffff:169.254.169.254"))
	for _, want := range []string{"169.254.169.254", "IPv4-mapped", "link-local", "metadata"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestDialControl(t *testing.T) {
	control := dialControl(checkAddr)
	tests := []struct {
		name      string
		network   string
		address   string
		forbidden bool
	}{
		{"a public IPv4 dial is allowed", "tcp4", "93.184.215.14:443", false},
		{"a public IPv6 dial is allowed", "tcp6", "[2606:4700:4700::1111]:443", false},
		{"a loopback dial is refused", "tcp4", "127.0.0.1:8080", true},
		{"an IPv4-mapped loopback dial is refused", "tcp6", "[::ffff:127.0.0.1]:80", true},
		{"a link-local dial with a zone is refused", "tcp6", "[fe80::1%eth0]:80", true},
		{"a dial address that is a name, not an IP, is refused", "tcp", "localhost:80", true},
		{"a dial address without a port is refused", "tcp", "8.8.8.8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := control(tt.network, tt.address, nil)
			if tt.forbidden != errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("control(%q, %q) = %v, want forbidden = %v", tt.network, tt.address, err, tt.forbidden)
			}
		})
	}
}
