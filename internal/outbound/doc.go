// Package outbound is the one HTTP client for every request Roster makes to an address an admin
// typed: webhook deliveries, SAML IdP metadata, OIDC discovery documents and JWKS. Such
// addresses are untrusted; without care, one admin could point Roster at the cloud metadata
// service, the database, or the admin port of another tenant's neighbour (server-side request
// forgery). DESIGN.md section 3 asks that all of them pass through one client that refuses
// private, loopback and link-local addresses at dial time, follows no redirects to them, and
// caps size and time; this package is that client.
//
// The address check runs in net.Dialer.Control, on the IP address of each connection actually
// being opened, after name resolution. A name that resolves to a public address when the URL is
// saved and to 127.0.0.1 when it is used (DNS rebinding) is therefore refused, and so is every
// redirect hop, whose connection passes through the same dialer. Proxies from the environment
// are ignored, since a proxy would make the connection on Roster's behalf to an address the
// dialer never sees.
//
// ROSTER_ALLOW_PRIVATE_OUTBOUND=1 (Options.AllowPrivate) lifts the address check for
// development and for deployments whose IdPs live on a private network; every other limit stays.
package outbound
