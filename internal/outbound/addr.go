package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress reports a connection refused because its destination is not a public
// unicast address. It reaches callers wrapped in *net.OpError and *url.Error; test for it with
// errors.Is to tell an admin that the URL points inside the network.
var ErrForbiddenAddress = errors.New("outbound: destination address is not allowed")

// blockedRange is a special-purpose range that outbound requests must not reach.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blocked lists the ranges that are not globally reachable unicast, from the IANA
// special-purpose address registries (RFC 6890). Addresses that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4, IPv4-translated) are unwrapped before this table is consulted.
var blocked = []blockedRange{
	// IPv4.
	{netip.MustParsePrefix("0.0.0.0/8"), "in 0.0.0.0/8, \"this network\" (RFC 791), which reaches the local host"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT shared address (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (RFC 3927), where cloud metadata services live"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the limited broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address (RFC 1112)"},

	// IPv6.
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/96"), "a deprecated IPv4-compatible address (RFC 4291 section 2.5.5.1)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address (RFC 6666)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address (RFC 3849)"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a deprecated site-local address (RFC 3879)"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// Prefixes of IPv6 forms that carry an IPv4 address, which is checked in their place.
var (
	// nat64 is the well-known NAT64 prefix; the IPv4 address is the last 32 bits (RFC 6052
	// section 2.1). A NAT64 gateway would connect to that IPv4 address on Roster's behalf.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// ipv4Translated is the SIIT form ::ffff:0:a.b.c.d (RFC 2765 section 2.1).
	ipv4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	// sixToFour embeds the IPv4 address in bits 16 to 47 (RFC 3056 section 2).
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classify returns why ip must not be dialled, or "" when it is a public unicast address.
func classify(ip netip.Addr) string {
	if !ip.IsValid() {
		return "not a valid IP address"
	}
	// Prefix.Contains never matches an address with a zone, so drop it; the zone does not
	// change which range the address is in.
	ip = ip.WithZone("")
	if ip.Is4In6() {
		return embedded("an IPv4-mapped form of ", ip.Unmap())
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return embedded("a NAT64 form of ", netip.AddrFrom4([4]byte(b[12:16])))
		case ipv4Translated.Contains(ip):
			return embedded("an IPv4-translated form of ", netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return embedded("a 6to4 form of ", netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, r := range blocked {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

// embedded classifies the IPv4 address carried inside an IPv6 one.
func embedded(form string, v4 netip.Addr) string {
	if reason := classify(v4); reason != "" {
		return form + reason
	}
	return ""
}

// checkAddr is the default dial policy: public unicast addresses only.
func checkAddr(ip netip.Addr) error {
	if reason := classify(ip); reason != "" {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, ip, reason)
	}
	return nil
}

// dialControl adapts an address policy to net.Dialer.Control, which sees the literal
// "ip:port" of every connection attempt, including each address tried by Happy Eyeballs.
func dialControl(check func(netip.Addr) error) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// Fail closed: a dial this package cannot read is not a dial it has checked.
			return fmt.Errorf("%w: cannot read %s dial address %q", ErrForbiddenAddress, network, address)
		}
		return check(ap.Addr())
	}
}
