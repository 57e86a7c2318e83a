package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Benchmarks of the OAuth provider's hot endpoints, in process (no socket), at 16
// concurrent callers on this machine's two cores (ROSTER_BENCH_PAR goroutines per core,
// default 8), on each backend. Each reports the p50 and p99 latency of one request:
//
//	go test -run XXX -bench OAuth -benchtime 4000x ./internal/httpapi/
//	ROSTER_TEST_POSTGRES=… go test -run XXX -bench OAuth -benchtime 4000x ./internal/httpapi/

// oauthBenchApp is an app of the benchmark with the algorithm that signs its ID tokens.
func oauthBenchApp(b *testing.B, o *oauthEnv, alg string) (oauthClient, *roster.OAuthApp) {
	c := o.createApp(b, `{"name":"Bench `+alg+`","redirectUris":["`+confRedirect+`"],"idTokenSigningAlg":"`+alg+`",
		"scopes":["openid","profile","email","offline_access","user.read","org.read","projects.read"]}`, confRedirect)
	app, err := o.st.LookupOAuthClient(context.Background(), c.clientID)
	if err != nil {
		b.Fatal(err)
	}
	return c, app
}

// seedTokens stores n grants of Ann for app, each with an access and a refresh token, and
// returns the token values (kind: roster.AccessToken or roster.RefreshToken).
func seedTokens(b *testing.B, o *oauthEnv, app *roster.OAuthApp, n int, kind string, scopes []string) []string {
	out := make([]string, n)
	now := time.Now()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 500 {
		hi := min(lo+500, n)
		if err := o.st.Tx(ctx, cli, func(tx store.Tx) error {
			for i := lo; i < hi; i++ {
				out[i] = "roster_bt_" + rand.Text()
				h := sha256.Sum256([]byte(out[i]))
				ttl := time.Hour
				if kind == roster.RefreshToken {
					ttl = 24 * time.Hour
				}
				if err := tx.CreateOAuthTokens(ctx, &roster.OAuthToken{OrgID: app.OrgID, AppID: app.ID, UserID: o.ann.ID, Kind: kind,
					Hash: h[:], FamilyID: roster.NewID(), Scopes: scopes, AuthTime: now, ExpiresAt: now.Add(ttl)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// parallelLatency runs one request per iteration from 16 goroutines and reports p50 and p99.
func parallelLatency(b *testing.B, h http.Handler, req func(i int) *http.Request, ok func(code int, body []byte) bool) {
	var mu sync.Mutex
	var all []time.Duration
	var next atomic.Int64
	b.SetParallelism(verifyParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		w := &lightRecorder{h: http.Header{}}
		for pb.Next() {
			r := req(int(next.Add(1) - 1))
			w.reset()
			start := time.Now()
			h.ServeHTTP(w, r)
			lat = append(lat, time.Since(start))
			if !ok(w.code, w.body.Bytes()) {
				b.Errorf("answered %d %s", w.code, w.body.Bytes())
				return
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// formRequest is a token-endpoint request made by hand, as the server's connection reader
// would hand it over.
func formRequest(target *url.URL, authz string, body string) *http.Request {
	return &http.Request{Method: "POST", URL: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Authorization": {authz}, "Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		Host: "roster.test", RemoteAddr: "192.0.2.1:1234", RequestURI: target.Path}
}

// BenchmarkOAuthTokenRefresh is the refresh_token grant: client authentication, the
// rotation's compare-and-swap, a new access and refresh token written in one transaction,
// and a new ID token signed with the app's algorithm (or none without openid).
func BenchmarkOAuthTokenRefresh(b *testing.B) {
	for _, be := range backends {
		for _, v := range []struct {
			name, alg string
			scopes    []string
		}{
			{"ES256", roster.AlgES256, []string{"openid", "email", "offline_access"}},
			{"RS256", roster.AlgRS256, []string{"openid", "email", "offline_access"}},
			{"no-id-token", roster.AlgES256, []string{"user.read", "offline_access"}},
		} {
			b.Run(be.name+"/"+v.name, func(b *testing.B) {
				o := newOAuthEnv(b, be.open(b))
				c, app := oauthBenchApp(b, o, v.alg)
				tokens := seedTokens(b, o, app, b.N, roster.RefreshToken, v.scopes)
				if err := o.provider.Keys.Ready(context.Background()); err != nil {
					b.Fatal(err)
				}
				h := o.srv.Config.Handler
				target, _ := url.Parse("http://roster.test/oauth/token")
				authz := "Basic " + basicCred(c.clientID, c.secret)
				parallelLatency(b, h, func(i int) *http.Request {
					return formRequest(target, authz, "grant_type=refresh_token&refresh_token="+tokens[i])
				}, func(code int, body []byte) bool {
					return code == 200 && bytes.Contains(body, []byte(`"refresh_token"`))
				})
			})
		}
	}
}

// BenchmarkOAuthCodeExchange is the authorization_code grant with PKCE: the code consumed
// once, tokens written and an ES256 ID token signed.
func BenchmarkOAuthCodeExchange(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			o := newOAuthEnv(b, be.open(b))
			c, _ := oauthBenchApp(b, o, roster.AlgES256)
			p := newPKCE()
			codes := make([]string, b.N)
			for i := range codes {
				codes[i] = o.issueCode(b, c, o.ann, []string{"openid", "email", "offline_access"}, p.challenge)
			}
			if err := o.provider.Keys.Ready(context.Background()); err != nil {
				b.Fatal(err)
			}
			h := o.srv.Config.Handler
			target, _ := url.Parse("http://roster.test/oauth/token")
			authz := "Basic " + basicCred(c.clientID, c.secret)
			suffix := "&redirect_uri=" + url.QueryEscape(confRedirect) + "&code_verifier=" + p.verifier
			parallelLatency(b, h, func(i int) *http.Request {
				return formRequest(target, authz, "grant_type=authorization_code&code="+codes[i]+suffix)
			}, func(code int, body []byte) bool { return code == 200 && bytes.Contains(body, []byte(`"id_token"`)) })
		})
	}
}

// BenchmarkOAuthUserinfo is the userinfo endpoint among 1,000 live access tokens, with the
// member's project roles (projects.read).
func BenchmarkOAuthUserinfo(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			o := newOAuthEnv(b, be.open(b))
			_, app := oauthBenchApp(b, o, roster.AlgES256)
			tokens := seedTokens(b, o, app, 1000, roster.AccessToken, []string{"openid", "email", "profile", "projects.read"})
			h := o.srv.Config.Handler
			target, _ := url.Parse("http://roster.test/oauth/userinfo")
			hdrs := make([]http.Header, len(tokens))
			for i, tok := range tokens {
				hdrs[i] = http.Header{"Authorization": {"Bearer " + tok}}
			}
			parallelLatency(b, h, func(i int) *http.Request {
				return &http.Request{Method: "GET", URL: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header: hdrs[(i*7)%len(hdrs)].Clone(), Body: http.NoBody, Host: "roster.test", RemoteAddr: "192.0.2.1:1234",
					RequestURI: target.Path}
			}, func(code int, body []byte) bool { return code == 200 && bytes.Contains(body, []byte(`"org_role"`)) })
		})
	}
}

func basicCred(user, pass string) string {
	return strings.TrimPrefix(basicAuth(url.QueryEscape(user), url.QueryEscape(pass)), "Basic ")
}
