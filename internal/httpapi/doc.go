// Package httpapi assembles Roster's HTTP surface: NewServer returns one http.Handler with
// every route (listed in routes.go and nowhere else), the middleware chain (request id,
// logging, metrics, panic recovery, body limit, authentication, failed-auth rate limiting),
// the error writer of each wire format, and the management API handlers.
package httpapi
