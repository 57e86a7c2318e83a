package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// apiError is the management API's error body: {"error":{"code","message"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handlerFunc is a handler that returns its error; the wrapper writes it in the wire format
// of the route, so each format has one error writer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// writeAPIError writes err in the management JSON shape.
func writeAPIError(w http.ResponseWriter, err error) {
	k := roster.KindOf(err)
	var body apiError
	body.Error.Code = k.String()
	body.Error.Message = roster.MessageOf(err)
	writeJSON(w, k.HTTPStatus(), body)
}

// decodeJSON reads one JSON object from the body into v. Bad JSON is Invalid, an oversized
// body TooLarge; an empty body decodes as {} when allowEmpty.
func decodeJSON(r *http.Request, v any, allowEmpty bool) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return roster.E(roster.Invalid, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return roster.E(roster.TooLarge, "request body is larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF) && allowEmpty:
			return nil
		case errors.Is(err, io.EOF):
			return roster.E(roster.Invalid, "request body is empty: a JSON object is required")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return roster.E(roster.Invalid, "field %q must be of JSON type %s", typeErr.Field, typeErr.Type.Kind())
		}
		return roster.E(roster.Invalid, "request body is not valid JSON")
	}
	if dec.More() {
		return roster.E(roster.Invalid, "request body has data after the JSON object")
	}
	return nil
}

// retryAfter sets Retry-After in whole seconds, at least one.
func retryAfter(w http.ResponseWriter, secs int) {
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// deleted is the body of a successful DELETE in the management API (the Langfuse shape).
type deleted struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// decodeGrace reads the optional body {graceSeconds} of a rotation (DESIGN.md section 3: every
// rotation takes the same one): how long the old secret keeps working, at most auth.MaxGrace.
func decodeGrace(r *http.Request) (time.Duration, error) {
	var body struct {
		GraceSeconds int64 `json:"graceSeconds"`
	}
	if err := decodeJSON(r, &body, true); err != nil {
		return 0, err
	}
	max := int64(auth.MaxGrace / time.Second)
	if body.GraceSeconds < 0 || body.GraceSeconds > max {
		return 0, roster.E(roster.Invalid, "graceSeconds must be between 0 and %d", max)
	}
	return time.Duration(body.GraceSeconds) * time.Second, nil
}
