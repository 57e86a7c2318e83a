package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/rosterhq/roster/internal/roster"
)

// Media types of RFC 7644 section 3.1.
const (
	MediaType   = "application/scim+json"
	contentType = MediaType + "; charset=utf-8"
)

// Schema URNs of RFC 7644 section 3.
const (
	ErrorSchema        = "urn:ietf:params:scim:api:messages:2.0:Error"
	ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SPCSchema          = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// Error is the SCIM error response of RFC 7644 section 3.12: status is a string.
type Error struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// scimTypeOf gives the RFC 7644 section 3.12 scimType that goes with a kind, where one does.
func scimTypeOf(k roster.Kind) string {
	switch k {
	case roster.Conflict:
		return "uniqueness"
	case roster.Invalid:
		return "invalidValue"
	case roster.Stale:
		return ""
	case roster.TooLarge:
		return "tooMany"
	}
	return ""
}

// ProtocolError is an error with the exact status and scimType RFC 7644 section 3.12 gives
// it, for the cases a domain kind does not pin down (invalidFilter, invalidPath, noTarget…).
type ProtocolError struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *ProtocolError) Error() string { return e.Detail }

func badRequest(scimType, detail string) error {
	return &ProtocolError{Status: http.StatusBadRequest, ScimType: scimType, Detail: detail}
}

func invalidValue(d string) error  { return badRequest("invalidValue", d) }
func invalidSyntax(d string) error { return badRequest("invalidSyntax", d) }
func invalidFilter(d string) error { return badRequest("invalidFilter", d) }
func invalidPath(d string) error   { return badRequest("invalidPath", d) }
func noTarget(d string) error      { return badRequest("noTarget", d) }
func mutability(d string) error    { return badRequest("mutability", d) }
func tooMany(d string) error       { return badRequest("tooMany", d) }

// WriteError writes err as a SCIM error. Messages of unclassified errors are not shown: the
// caller logs them and the client sees only a generic text.
func WriteError(w http.ResponseWriter, err error) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		WriteErrorStatus(w, pe.Status, pe.ScimType, pe.Detail)
		return
	}
	k := roster.KindOf(err)
	status := k.HTTPStatus()
	WriteErrorStatus(w, status, scimTypeOf(k), roster.MessageOf(err))
}

// WriteErrorStatus writes a SCIM error with an explicit status and scimType.
func WriteErrorStatus(w http.ResponseWriter, status int, scimType, detail string) {
	write(w, status, Error{Schemas: []string{ErrorSchema}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
}

func write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"schemas":["` + ErrorSchema + `"],"status":"500","detail":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
