package outbound

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// ErrInvalidURL reports a URL this package will not request: CheckURL returns it for an
// admin's input, and the client returns it for a request or redirect whose scheme is not http
// or https. Callers map it to a validation error (roster.Invalid) rather than a failed delivery.
var ErrInvalidURL = errors.New("invalid URL")

// CheckURL validates a URL an admin types (a webhook endpoint, a metadata or discovery URL)
// when it is saved, so that mistakes are reported on the form rather than at the first
// delivery. The URL must be absolute, use https or http, name a host, carry a port in range if
// any, and hold no user name or password (credentials belong in the fields made for them, where
// they are encrypted, not in a URL that is shown and logged). Messages never repeat the URL,
// which may contain such a password.
//
// CheckURL does not resolve the host or judge its address: a name's addresses change, so that
// is done on every connection by the client from New.
func CheckURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: the URL is empty", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: the URL cannot be parsed", ErrInvalidURL)
	}
	if u.Scheme == "" {
		return fmt.Errorf("%w: the URL must be absolute, starting with https:// or http://", ErrInvalidURL)
	}
	if !allowedScheme(u.Scheme) {
		return fmt.Errorf("%w: the scheme must be https or http, not %q", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: the URL must start with %s:// followed by a host", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not contain a user name or password", ErrInvalidURL)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: the URL has no host", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: the port must be between 1 and 65535", ErrInvalidURL)
		}
	} else if u.Host[len(u.Host)-1] == ':' {
		return fmt.Errorf("%w: the port after ':' is empty", ErrInvalidURL)
	}
	return nil
}

// allowedScheme reports whether the client may request a URL with this scheme.
func allowedScheme(scheme string) bool {
	return scheme == "https" || scheme == "http"
}
