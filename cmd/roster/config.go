package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// envFunc is the injected environment.
type envFunc func(string) string

// config is every setting, resolved once: defaults, then ROSTER_* environment, then flags.
type config struct {
	Database string
	Addr     string
	BaseURL  string

	TrustedProxies        string
	MaxBodyBytes          int64
	TokenTTL              time.Duration
	AuthFailuresPerMinute int
	LogLevel              string
	LogFormat             string
	ReadTimeout           time.Duration
	WriteTimeout          time.Duration
	IdleTimeout           time.Duration
	ShutdownTimeout       time.Duration

	// Retention of audit records, events, webhook deliveries and SCIM request logs (0 keeps
	// them forever).
	AuditRetention      time.Duration
	EventsRetention     time.Duration
	DeliveriesRetention time.Duration
	RequestLogRetention time.Duration
	// AllowPrivateOutbound lets webhooks reach private, loopback and link-local addresses
	// (ROSTER_ALLOW_PRIVATE_OUTBOUND=1).
	AllowPrivateOutbound bool
	WebhookTimeout       time.Duration
	WebhookLease         time.Duration
	// Session lifetimes of signed-in members: idle and absolute.
	SessionIdle   time.Duration
	SessionMaxAge time.Duration

	// SMTP relay for console invitations (none: links are only shown to copy).
	SMTPAddr string
	SMTPFrom string

	// From the environment only: secrets never go on a command line, where ps shows them.
	AdminKey     auth.Secret
	SecretKey    auth.Secret
	SMTPUsername string
	SMTPPassword auth.Secret

	failures *int64 // bound to --auth-failures-per-minute; copied by validate
}

// flagSet makes a command's flag set with the global flags (and, for serve, the server
// settings) registered, their defaults taken from the environment twins.
func flagSet(name string, env envFunc, stderr io.Writer, server bool) (*flag.FlagSet, *config, *[]error) {
	fs := flag.NewFlagSet("roster "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{AdminKey: auth.Secret(env("ROSTER_ADMIN_API_KEY")), SecretKey: auth.Secret(env("ROSTER_SECRET_KEY")),
		AllowPrivateOutbound: env("ROSTER_ALLOW_PRIVATE_OUTBOUND") == "1",
		SMTPUsername:         env("ROSTER_SMTP_USERNAME"), SMTPPassword: auth.Secret(env("ROSTER_SMTP_PASSWORD"))}
	var errs []error
	str := func(p *string, flagName, envName, def, help string) {
		if v := env(envName); v != "" {
			def = v
		}
		fs.StringVar(p, flagName, def, help+" (env "+envName+")")
	}
	dur := func(p *time.Duration, flagName, envName string, def time.Duration, help string) {
		if v := env(envName); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (like 30s or 8760h)", envName, v))
			} else {
				def = d
			}
		}
		fs.DurationVar(p, flagName, def, help+" (env "+envName+")")
	}
	num := func(p *int64, flagName, envName string, def int64, help string) {
		if v := env(envName); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a number", envName, v))
			} else {
				def = n
			}
		}
		fs.Int64Var(p, flagName, def, help+" (env "+envName+")")
	}
	str(&c.Database, "database", "ROSTER_DATABASE", "roster.db", "SQLite file path, or a postgres:// DSN")
	str(&c.Addr, "addr", "ROSTER_ADDR", "127.0.0.1:8080", "listen address")
	str(&c.BaseURL, "base-url", "ROSTER_BASE_URL", "", "public URL of this server (default http://<addr>)")
	dur(&c.TokenTTL, "token-ttl", "ROSTER_TOKEN_TTL", roster.DefaultTokenTTL, "lifetime of new SCIM directory tokens")
	if server {
		var failures int64
		str(&c.TrustedProxies, "trusted-proxies", "ROSTER_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs whose X-Forwarded-For is believed")
		num(&c.MaxBodyBytes, "max-body-bytes", "ROSTER_MAX_BODY_BYTES", 1<<20, "largest request body accepted (413 beyond)")
		num(&failures, "auth-failures-per-minute", "ROSTER_AUTH_FAILURES_PER_MINUTE", auth.DefaultFailuresPerMinute, "failed authentications allowed a minute per client address and credential prefix (429 beyond)")
		str(&c.LogLevel, "log-level", "ROSTER_LOG_LEVEL", "info", "debug, info, warn or error")
		str(&c.LogFormat, "log-format", "ROSTER_LOG_FORMAT", "json", "json or text")
		dur(&c.ReadTimeout, "read-timeout", "ROSTER_READ_TIMEOUT", 30*time.Second, "time to read a whole request")
		dur(&c.WriteTimeout, "write-timeout", "ROSTER_WRITE_TIMEOUT", 60*time.Second, "time to write a response")
		dur(&c.IdleTimeout, "idle-timeout", "ROSTER_IDLE_TIMEOUT", 120*time.Second, "keep-alive idle time")
		dur(&c.ShutdownTimeout, "shutdown-timeout", "ROSTER_SHUTDOWN_TIMEOUT", 30*time.Second, "time requests in flight get to finish on SIGTERM")
		dur(&c.AuditRetention, "audit-retention", "ROSTER_AUDIT_RETENTION", 8760*time.Hour, "how long audit records are kept (0: forever)")
		dur(&c.EventsRetention, "events-retention", "ROSTER_EVENTS_RETENTION", 720*time.Hour, "how long events are kept for the events API and redelivery (0: forever)")
		dur(&c.DeliveriesRetention, "deliveries-retention", "ROSTER_DELIVERIES_RETENTION", 720*time.Hour, "how long finished webhook deliveries are kept in the delivery log (0: forever)")
		dur(&c.RequestLogRetention, "scim-request-log-retention", "ROSTER_SCIM_REQUEST_LOG_RETENTION", 720*time.Hour, "how long SCIM request-log entries are kept (0: forever)")
		dur(&c.WebhookTimeout, "webhook-timeout", "ROSTER_WEBHOOK_TIMEOUT", 10*time.Second, "how long one webhook delivery attempt may take")
		dur(&c.WebhookLease, "webhook-lease", "ROSTER_WEBHOOK_LEASE", 30*time.Second, "how long a replica holds a webhook endpoint it delivers to (more than twice --webhook-timeout)")
		dur(&c.SessionIdle, "session-idle", "ROSTER_SESSION_IDLE", auth.DefaultSessionIdle, "a signed-in member's session ends after this long without a request")
		dur(&c.SessionMaxAge, "session-max-age", "ROSTER_SESSION_MAX_AGE", auth.DefaultSessionMaxAge, "a signed-in member's session ends this long after sign-in in any case")
		str(&c.SMTPAddr, "smtp-addr", "ROSTER_SMTP_ADDR", "", "host:port of the SMTP relay that mails console invitations (ROSTER_SMTP_USERNAME and ROSTER_SMTP_PASSWORD authenticate)")
		str(&c.SMTPFrom, "smtp-from", "ROSTER_SMTP_FROM", "", "sender address of mailed invitations (required with --smtp-addr)")
		c.failures = &failures
	}
	return fs, c, &errs
}

// parse parses args and validates the result; errors are usage errors.
func parse(fs *flag.FlagSet, c *config, envErrs *[]error, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if len(*envErrs) > 0 {
		return usagef("%v", errors.Join(*envErrs...))
	}
	return c.validate()
}

// errHelp ends a command after -h printed its flags.
var errHelp = errors.New("help requested")

func (c *config) validate() error {
	if c.failures != nil {
		c.AuthFailuresPerMinute = int(*c.failures)
	}
	if strings.TrimSpace(c.Database) == "" {
		return usagef("--database is empty")
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			return usagef("--smtp-addr must be host:port")
		}
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			return usagef("--smtp-from must be an email address when --smtp-addr is set")
		}
	}
	if c.TokenTTL < time.Hour {
		return usagef("--token-ttl must be at least 1h")
	}
	for _, d := range []time.Duration{c.AuditRetention, c.EventsRetention, c.DeliveriesRetention, c.RequestLogRetention} {
		if d < 0 {
			return usagef("retention periods must not be negative")
		}
	}
	if c.failures != nil && (c.WebhookTimeout <= 0 || c.WebhookLease <= 2*c.WebhookTimeout) {
		return usagef("--webhook-lease must be more than twice --webhook-timeout, and both positive")
	}
	if c.MaxBodyBytes < 0 {
		return usagef("--max-body-bytes must be positive")
	}
	if c.failures != nil && c.AuthFailuresPerMinute < auth.DefaultFailuresPerMinute {
		return usagef("--auth-failures-per-minute must be at least %d", auth.DefaultFailuresPerMinute)
	}
	if _, err := auth.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return usagef("--log-format must be json or text")
	}
	if c.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return usagef("--log-level must be debug, info, warn or error")
		}
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	return nil
}

// newLogger makes the process logger on stderr.
func (c *config) newLogger(stderr io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: l}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(stderr, opts))
}
