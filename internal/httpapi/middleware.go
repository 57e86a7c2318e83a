package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim"
)

// reqInfo is filled in as a request passes through the layers, for the access log and
// metrics written when it leaves.
type reqInfo struct {
	id    string
	route string
	orgID string
}

type reqInfoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestID accepts a caller's X-Request-Id when it is short and plain, else makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 {
		ok := true
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// middleware wraps every request: request id, client address, body limit, panic recovery,
// one structured access-log line and the request metrics.
func (s *server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: requestID(r)}
		ip := s.TrustedProxies.ClientIP(r)
		ctx := context.WithValue(r.Context(), reqInfoKey{}, info)
		ctx = roster.WithRequestMeta(ctx, roster.RequestMeta{RequestID: info.id, IP: ip})
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", info.id)
		sw := &statusWriter{ResponseWriter: w}
		s.Metrics.inflight.Inc()
		defer func() {
			s.Metrics.inflight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic serving request", "request_id", info.id, "panic", fmt.Sprint(p),
					"stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(sw, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := info.route
			if route == "" {
				route = "unmatched"
			}
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			d := time.Since(start)
			s.Metrics.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(code)).Inc()
			s.Metrics.latency.WithLabelValues(route).Observe(d.Seconds())
			level := slog.LevelInfo
			if code >= 500 {
				level = slog.LevelError
			}
			// The path is logged without its query string, and no header is logged: neither
			// may carry a credential into the log.
			s.Logger.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", info.id), slog.String("method", r.Method),
				slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", code), slog.Int("bytes", sw.bytes),
				slog.Duration("duration", d), slog.String("ip", ip), slog.String("org_id", info.orgID))
		}()
		if r.ContentLength > s.MaxBodyBytes {
			s.writeError(sw, r, roster.E(roster.TooLarge, "request body is larger than %d bytes", s.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, s.MaxBodyBytes)
		next.ServeHTTP(sw, r)
	})
}

// methodLabel bounds the method label of the request metrics: a client may send any token
// as a method, and each distinct label value would be a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// dispatch routes a request: SCIM paths are canonicalised first, unmatched routes get a 404
// or 405 in the wire format of their area instead of the mux's plain text.
func (s *server) dispatch(w http.ResponseWriter, r *http.Request) {
	if p, ok := scim.Canonicalize(r.URL.Path); ok && p != r.URL.Path {
		r.URL.Path, r.URL.RawPath = p, ""
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		if allow := s.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, roster.E(roster.Invalid, "method %s is not allowed here", r.Method), http.StatusMethodNotAllowed)
			return
		}
		s.writeError(w, r, roster.E(roster.NotFound, "no such endpoint: %s", r.URL.Path))
		return
	}
	infoFrom(r.Context()).route = pattern
	s.mux.ServeHTTP(w, r)
}

// allowed lists the methods that do have a route for r's path.
func (s *server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			out = append(out, m)
		}
	}
	return out
}

// writeError writes err in the format of the request's area (SCIM or management JSON). An
// unclassified error is logged once with the request id, and the client sees only that id.
// An explicit status overrides the one the error kind maps to.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error, status ...int) {
	k := roster.KindOf(err)
	info := infoFrom(r.Context())
	var pe *scim.ProtocolError
	if k == roster.Internal && !errors.As(err, &pe) {
		s.Logger.Error("internal error", "request_id", info.id, "route", info.route, "err", err)
		err = roster.E(roster.Internal, "internal error (request id %s)", info.id)
	}
	code := k.HTTPStatus()
	if len(status) > 0 {
		code = status[0]
	}
	if k == roster.Unauthenticated {
		w.Header().Add("WWW-Authenticate", `Bearer realm="roster"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="roster", charset="UTF-8"`)
	}
	if scim.IsSCIMPath(r.URL.Path) {
		if len(status) > 0 {
			scim.WriteErrorStatus(w, code, "", roster.MessageOf(err))
			return
		}
		scim.WriteError(w, err)
		return
	}
	var body apiError
	body.Error.Code = k.String()
	if code == http.StatusMethodNotAllowed {
		body.Error.Code = "method_not_allowed"
	}
	body.Error.Message = roster.MessageOf(err)
	writeJSON(w, code, body)
}

// handle adapts a handlerFunc, writing its error in the route's format.
func (s *server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// principal of the request (set by the auth wrappers).
func principal(r *http.Request) auth.Principal { return auth.PrincipalFrom(r.Context()) }
