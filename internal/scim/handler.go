package scim

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Handler serves the SCIM endpoints. Routes are registered by the HTTP layer, which
// authenticates first and puts the principal (with its directory) in the request context.
// Handlers return errors; the HTTP layer writes them as SCIM errors.
type Handler struct {
	Store store.Store
	// BaseURL is the public URL of the server, for meta.location.
	BaseURL string
	Logger  *slog.Logger
}

// Limits advertised in the ServiceProviderConfig and enforced.
const (
	MaxResults        = 1000
	DefaultCount      = 100
	MaxBulkOperations = 1000
	MaxBulkPayload    = 1 << 20
)

// directory returns the authenticated directory of the request.
func directory(r *http.Request) (*roster.Directory, auth.Principal, error) {
	p := auth.PrincipalFrom(r.Context())
	if p.Directory == nil {
		return nil, p, roster.E(roster.Unauthenticated, "authentication required")
	}
	return p.Directory, p, nil
}

// readBody reads a request body, already capped by the HTTP layer. A SCIM request is JSON:
// application/scim+json or application/json (and no Content-Type at all is tolerated).
func readBody(r *http.Request) ([]byte, error) {
	if ct := strings.ToLower(r.Header.Get("Content-Type")); ct != "" && !strings.Contains(ct, "json") {
		return nil, &ProtocolError{Status: http.StatusUnsupportedMediaType, Detail: "Content-Type must be application/scim+json or application/json"}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &ProtocolError{Status: http.StatusRequestEntityTooLarge, ScimType: "tooMany", Detail: "the request body is too large"}
		}
		return nil, invalidSyntax("reading the request body failed")
	}
	return b, nil
}

// ifMatch reads If-Match as a version for compare-and-swap; 0 means unconditional.
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, nil
	}
	v, anyVersion, ok := parseETag(h)
	if anyVersion {
		return 0, nil
	}
	if !ok {
		return 0, &ProtocolError{Status: http.StatusPreconditionFailed, Detail: "If-Match does not name a version of this resource"}
	}
	return v, nil
}

// notModified answers 304 when If-None-Match names the current version.
func notModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	for _, part := range strings.Split(h, ",") {
		v, anyVersion, ok := parseETag(part)
		if anyVersion || (ok && v == version) {
			w.Header().Set("ETag", etag(version))
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// writeRequest reads what every replacing or patching write starts with: the directory and
// principal, the If-Match version (0: unconditional) and the body.
func writeRequest(r *http.Request) (*roster.Directory, auth.Principal, int64, []byte, error) {
	dir, p, err := directory(r)
	if err != nil {
		return nil, p, 0, nil, err
	}
	ifv, err := ifMatch(r)
	if err != nil {
		return nil, p, 0, nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, p, 0, nil, err
	}
	return dir, p, ifv, body, nil
}
