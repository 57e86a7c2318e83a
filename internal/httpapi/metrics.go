package httpapi

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the server's Prometheus collectors, on a registry of its own. Labels are route
// patterns and status codes, never organization ids or paths (unbounded cardinality).
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	authFail *prometheus.CounterVec
	// CredentialsExpiring counts credentials that expire within 30 days, by kind.
	CredentialsExpiring *prometheus.GaugeVec
}

// NewMetrics registers the collectors, with database pool figures for each named pool.
func NewMetrics(pools map[string]*sql.DB) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roster_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_auth_failures_total", Help: "Failed authentications by scheme and outcome (rejected, rate_limited).",
		}, []string{"scheme", "outcome"}),
		CredentialsExpiring: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roster_credentials_expiring_soon", Help: "Credentials that expire within 30 days, by kind (scim_token, org_key).",
		}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.inflight, m.authFail, m.CredentialsExpiring,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, db := range pools {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
	return m
}
