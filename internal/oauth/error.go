package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The error codes of RFC 6749 section 5.2 (token endpoint) and 4.1.2.1 (authorization
// endpoint), RFC 6750 section 3.1 (protected resources) and RFC 7009 section 2.2.1.
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	ErrInvalidToken            = "invalid_token"
	ErrInsufficientScope       = "insufficient_scope"
	ErrUnsupportedTokenType    = "unsupported_token_type"
	ErrLoginRequired           = "login_required"
	ErrConsentRequired         = "consent_required"
)

// Error is an OAuth error response: the code, a human description, and the HTTP status.
type Error struct {
	Code        string
	Description string
	Status      int
	// basic is set when the client authenticated with HTTP Basic: the 401 then names that
	// scheme in WWW-Authenticate (RFC 6749 section 5.2).
	basic bool
	// bearer is set on protected-resource errors (RFC 6750 section 3).
	bearer bool
	// retryAfter, in seconds, for a throttled client.
	retryAfter int
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oerr(code string, format string, args ...any) *Error {
	status := http.StatusBadRequest
	switch code {
	case ErrInvalidClient:
		status = http.StatusUnauthorized
	case ErrServerError:
		status = http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		status = http.StatusServiceUnavailable
	}
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// noStore marks a response that carries tokens or token errors as uncacheable (RFC 6749
// section 5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes e as RFC 6749 section 5.2 JSON, with the WWW-Authenticate challenge an
// invalid client or a bad bearer token calls for.
func writeError(w http.ResponseWriter, e *Error) {
	noStore(w)
	switch {
	case e.bearer:
		v := `Bearer realm="roster"`
		if e.Code != "" {
			v += fmt.Sprintf(`, error=%q, error_description=%q`, e.Code, e.Description)
		}
		w.Header().Set("WWW-Authenticate", v)
	case e.Code == ErrInvalidClient && e.Status == http.StatusUnauthorized:
		if e.basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="roster", charset="UTF-8"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="roster"`)
		}
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.retryAfter))
	}
	writeJSON(w, e.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}
