package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/scim"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// Background intervals of the server.
const (
	lastUsedFlushEvery = 10 * time.Second
	expiryCheckEvery   = time.Hour
	purgeEvery         = time.Hour
	oauthMaintainEvery = time.Hour
)

func runServe(ctx context.Context, args []string, env envFunc, stdout, stderr io.Writer) error {
	fs, c, errs := flagSet("serve", env, stderr, true)
	if err := parse(fs, c, errs, args); err != nil {
		return helpOK(err)
	}
	log := c.newLogger(stderr)
	tuneGC(env)

	kr, err := loadKeyring(c)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + ln.Addr().String()
	}
	trusted, _ := auth.ParseTrustedProxies(c.TrustedProxies) // validated by parse
	svc := auth.NewService(st, auth.Config{TokenTTL: c.TokenTTL, Logger: log})
	pools := map[string]*sql.DB{"roster": st.DB()}
	if st.WriteDB() != st.DB() {
		pools = map[string]*sql.DB{"roster_read": st.DB(), "roster_write": st.WriteDB()}
	}
	metrics := httpapi.NewMetrics(pools)
	requestLog := scim.NewRequestLog(st)
	st.SetBaseURL(c.BaseURL)
	evsvc := events.NewService(st, kr, nil)
	dispatcher := &events.Dispatcher{
		Store:   st,
		Service: evsvc,
		Client:  outbound.New(outbound.Options{AllowPrivate: c.AllowPrivateOutbound, MaxRedirects: -1, UserAgent: "Roster-Webhooks/1"}),
		Logger:  log,
		Timeout: c.WebhookTimeout,
		Lease:   c.WebhookLease,
	}
	st.SetOnEvents(dispatcher.Wake)
	sessions := auth.NewSessions(st, auth.SessionConfig{Idle: c.SessionIdle, MaxAge: c.SessionMaxAge,
		TrustedProxies: trusted, BaseURL: c.BaseURL, Logger: log})
	limiter := auth.NewFailureLimiter(c.AuthFailuresPerMinute)
	provider := oauth.New(oauth.Config{Store: st, Keyring: kr, Issuer: c.BaseURL, Logger: log, Limiter: limiter,
		ClientIP: trusted.ClientIP, Sessions: sessions, SSOLogin: httpapi.SSOLogin(st)})
	// Signing keys exist before the first request, so that the JWKS is never empty.
	if err := provider.Keys.Ensure(ctx); err != nil {
		return fmt.Errorf("OAuth signing keys: %w", err)
	}
	ssoService := sso.New(sso.Config{Store: st, Sessions: sessions, Keyring: kr, BaseURL: c.BaseURL, Logger: log,
		Outbound: outbound.New(outbound.Options{AllowPrivate: c.AllowPrivateOutbound, UserAgent: "Roster-SSO/1"})})
	var mailer mail.Sender
	if c.SMTPAddr != "" {
		mailer = &mail.SMTP{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword.Reveal()}
	}
	handler := httpapi.NewServer(httpapi.Deps{
		Store:          st,
		Auth:           svc,
		Logger:         log,
		Metrics:        metrics,
		BaseURL:        c.BaseURL,
		AdminKey:       c.AdminKey,
		MaxBodyBytes:   c.MaxBodyBytes,
		TrustedProxies: trusted,
		Limiter:        limiter,
		RequestLog:     requestLog,
		Events:         evsvc,
		Keyring:        kr,
		OAuth:          provider,
		Sessions:       sessions,
		People:         auth.NewPeople(st, auth.PeopleConfig{Keyring: kr}),
		Mailer:         mailer,
		SSO:            ssoService,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(6)
	go func() { defer wg.Done(); provider.Maintain(bg, oauthMaintainEvery) }()
	go func() { defer wg.Done(); svc.LastUsed().Run(bg, lastUsedFlushEvery, log) }()
	go func() { defer wg.Done(); dispatcher.Run(bg) }()
	go func() {
		defer wg.Done()
		events.Purge(bg, st, events.Retention{Audit: c.AuditRetention, Events: c.EventsRetention,
			Deliveries: c.DeliveriesRetention, SCIMRequests: c.RequestLogRetention}, purgeEvery, nil, log)
	}()
	go func() { defer wg.Done(); requestLog.Run(bg, time.Second, log) }()
	go func() { defer wg.Done(); watchExpiry(bg, svc, metrics, log) }()
	wg.Add(1)
	go func() { defer wg.Done(); sessions.PurgeExpired(bg, purgeEvery) }()
	wg.Add(1)
	go func() { defer wg.Done(); ssoService.PurgeExpired(bg, purgeEvery) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "base_url", c.BaseURL, "database", st.Dialect(),
		"admin_api", c.AdminKey != "")

	var runErr error
	select {
	case err := <-serveErr:
		runErr = err
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight", "timeout", c.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
		if err := srv.Shutdown(sctx); err != nil {
			runErr = fmt.Errorf("shutdown: %w", err)
		}
		cancel()
	}
	stopBG()
	wg.Wait() // the last-use coalescer flushes before the store closes
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	log.Info("stopped")
	return runErr
}

// watchExpiry warns about credentials nearing expiry, at start and then hourly, and exports
// their count.
func watchExpiry(ctx context.Context, svc *auth.Service, m *httpapi.Metrics, log *slog.Logger) {
	t := time.NewTicker(expiryCheckEvery)
	defer t.Stop()
	for {
		list, err := svc.CheckExpiry(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("checking credential expiry", "err", err)
		}
		if err == nil {
			counts := map[store.CredentialKind]int{store.DirectoryTokenCredential: 0, store.OrgKeyCredential: 0}
			for _, e := range list {
				counts[e.Kind]++
			}
			for k, n := range counts {
				m.CredentialsExpiring.WithLabelValues(string(k)).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadKeyring loads the keyring that encrypts secrets Roster must use again: from
// ROSTER_SECRET_KEY, or, for the embedded SQLite default only, from a key file beside the
// database, created on first start.
func loadKeyring(c *config) (*keyring.Keyring, error) {
	if c.SecretKey != "" {
		k, err := keyring.Parse(c.SecretKey.Reveal())
		if err != nil {
			return nil, fmt.Errorf("ROSTER_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	if sqlstore.IsPostgres(c.Database) {
		return nil, errors.New("ROSTER_SECRET_KEY is required with PostgreSQL: every replica must share one keyring (generate one with 'roster keyring generate')")
	}
	k, _, err := keyring.LoadOrCreateFile(c.Database + ".key")
	return k, err
}

// tuneGC sets the garbage collector for a server, unless GOGC or GOMEMLIMIT say otherwise.
// A request allocates a few kilobytes and keeps none of them, so the live heap is a few
// megabytes: at Go's default (a collection whenever the heap doubles, from 4 MB) the collector
// ran forty times a second under load, each run with its fixed costs, and took 6 % of the
// CPU of SCIM reads. Collecting when the heap has tripled (from 8 MB) runs it half as often
// (SCIM reads 10 to 20 % less CPU a request in one measured run, peak resident memory 73 to
// 93 MB); the memory limit makes it collect harder before the Go heap passes 64 MB, so the
// process stays inside its memory budget (SQLite's page caches, outside the Go heap, are
// bounded on their own).
func tuneGC(env envFunc) {
	if env("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if env("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}
