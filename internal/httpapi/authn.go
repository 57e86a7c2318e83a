package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster/internal/scim"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// credential is a parsed Authorization header.
type credential struct {
	scheme string // "bearer" or "basic"
	token  string // bearer token
	user   string // basic user (public key)
	pass   string // basic password (secret key)
	// limitAs, when set, keys the failure limiter instead of the credential prefix.
	limitAs string
}

// limiterPrefix is the part of the credential that keys the failure limiter together with
// the client address: long enough to tell tenants apart, never enough to matter if logged.
func (c credential) limiterPrefix() string {
	if c.limitAs != "" {
		return c.limitAs
	}
	v := c.token
	if c.scheme == "basic" {
		v = c.user
	}
	if len(v) > 16 {
		v = v[:16]
	}
	return c.scheme + ":" + v
}

var errNoCredentials = roster.E(roster.Unauthenticated, "authentication required: send a Bearer token or Basic credentials")

// parseAuthorization reads the Authorization header; ok is false when there is none.
func parseAuthorization(r *http.Request) (c credential, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return c, false, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		if rest == "" {
			return c, true, roster.E(roster.Unauthenticated, "empty bearer token")
		}
		return credential{scheme: "bearer", token: rest}, true, nil
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return c, true, roster.E(roster.Unauthenticated, "malformed Basic credentials")
		}
		user, pass, found := strings.Cut(string(raw), ":")
		if !found {
			return c, true, roster.E(roster.Unauthenticated, "malformed Basic credentials")
		}
		return credential{scheme: "basic", user: user, pass: pass}, true, nil
	}
	return c, true, roster.E(roster.Unauthenticated, "unsupported authorization scheme: use Bearer or Basic")
}

// verify authenticates a parsed credential with check, under the failure limiter: a source
// that has failed too often with this credential prefix gets 429 before any check, and every
// failure counts against it.
func (s *server) verify(w http.ResponseWriter, r *http.Request, c credential, check func() (auth.Principal, error)) (auth.Principal, error) {
	key := s.TrustedProxies.ClientIP(r) + "|" + c.limiterPrefix()
	if blocked, wait := s.Limiter.Blocked(key); blocked {
		s.Metrics.authFail.WithLabelValues(c.scheme, "rate_limited").Inc()
		retryAfter(w, int(wait.Seconds()))
		return auth.Principal{}, roster.E(roster.RateLimited, "too many failed authentication attempts; retry later")
	}
	p, err := check()
	if err != nil {
		if roster.KindOf(err) == roster.Unauthenticated {
			s.Limiter.Fail(key)
			s.Metrics.authFail.WithLabelValues(c.scheme, "rejected").Inc()
		}
		return auth.Principal{}, err
	}
	info := infoFrom(r.Context())
	info.orgID = p.OrgID
	return p, nil
}

// withPrincipal runs h with p in the request context.
func withPrincipal(h http.Handler, w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
}

// admin requires the instance admin key as a Bearer token.
func (s *server) admin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.AdminKey == "" {
			s.writeError(w, r, roster.E(roster.NotFound, "the instance admin API is disabled: set ROSTER_ADMIN_API_KEY to enable it"))
			return
		}
		c, ok, err := parseAuthorization(r)
		if err == nil && !ok {
			err = errNoCredentials
		}
		if err == nil && c.scheme != "bearer" {
			err = roster.E(roster.Unauthenticated, "the admin API takes the admin key as a Bearer token")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// There is one admin key and no tenant to tell apart, and an operator may have chosen
		// a guessable one: all guesses from an address share one bucket, however they vary.
		c.limitAs = "admin"
		p, err := s.verify(w, r, c, func() (auth.Principal, error) {
			if !s.adminKeyMatches(c.token) {
				return auth.Principal{}, roster.E(roster.Unauthenticated, "invalid admin key")
			}
			return auth.Principal{Kind: auth.Admin}, nil
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		withPrincipal(h, w, r, p)
	})
}

// orgKey requires an organization API key as Basic credentials. A valid project key is
// refused with 403 (wrong scope), or 404 on a route of another project, which it must not
// learn exists.
func (s *server) orgKey(h http.Handler) http.Handler { return s.apiKey(h, false) }

// projectOrOrgKey takes an organization or a project key as Basic credentials.
func (s *server) projectOrOrgKey(h http.Handler) http.Handler { return s.apiKey(h, true) }

func (s *server) apiKey(h http.Handler, projectKeys bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok, err := parseAuthorization(r)
		if err == nil && !ok {
			err = errNoCredentials
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.verify(w, r, c, func() (auth.Principal, error) {
			if c.scheme != "basic" {
				return auth.Principal{}, roster.E(roster.Unauthenticated, "this endpoint takes an organization API key as Basic credentials (pk-org-…:sk-org-…)")
			}
			return s.Auth.AuthenticateAPIKey(r.Context(), c.user, c.pass)
		})
		if err == nil && p.Kind == auth.ProjectKey && !projectKeys {
			if id := r.PathValue("projectId"); id != "" && id != p.ProjectID {
				err = roster.E(roster.NotFound, "project not found")
			} else {
				err = roster.E(roster.Forbidden, "a project API key cannot use this endpoint: use an organization API key (pk-org-…)")
			}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		withPrincipal(h, w, r, p)
	})
}

// scimAuth authenticates a SCIM request: a directory's Bearer token, or an org key as Basic
// credentials acting on the organization's default directory. With optional (discovery
// endpoints), a request without credentials passes anonymously, but one that presents bad
// credentials is refused like anywhere else.
func (s *server) scimAuth(h http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok, err := parseAuthorization(r)
		if err == nil && !ok {
			if optional {
				h.ServeHTTP(w, r)
				return
			}
			err = errNoCredentials
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.verify(w, r, c, func() (auth.Principal, error) {
			if c.scheme == "bearer" {
				return s.Auth.AuthenticateBearer(r.Context(), c.token)
			}
			p, err := s.Auth.AuthenticateBasic(r.Context(), c.user, c.pass)
			if err != nil {
				return p, err
			}
			p.Directory, err = s.Auth.DefaultDirectory(r.Context(), p.Actor(), p.OrgID)
			if err == nil && !p.Directory.Enabled {
				err = roster.E(roster.Unauthenticated, "directory is disabled")
			}
			return p, err
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if s.RequestLog == nil {
			withPrincipal(h, w, r, p)
			return
		}
		start := time.Now()
		rec := &errorCapture{statusWriter: statusWriter{ResponseWriter: w}}
		withPrincipal(h, rec, r, p)
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		e := roster.SCIMRequest{OrgID: p.OrgID, DirectoryID: p.Directory.ID, At: start.UTC(), Method: r.Method,
			Path: path, Status: rec.status, Latency: time.Since(start), RequestID: infoFrom(r.Context()).id}
		if rec.status == 0 {
			e.Status = http.StatusOK
		}
		if e.Status >= 400 {
			var body scim.Error
			if json.Unmarshal(rec.body.Bytes(), &body) == nil {
				e.ScimType, e.Detail = body.ScimType, body.Detail
			}
		}
		s.RequestLog.Add(e)
	})
}

// errorCapture is a statusWriter that also keeps the body of an error response (small).
type errorCapture struct {
	statusWriter
	body bytes.Buffer
}

func (c *errorCapture) Write(b []byte) (int, error) {
	n, err := c.statusWriter.Write(b)
	if c.status >= 400 && c.body.Len() < 4096 {
		c.body.Write(b[:n])
	}
	return n, err
}
