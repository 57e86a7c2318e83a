package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one place that lists every route (Go 1.22 method patterns).
func (s *server) routes() {
	m := s.mux

	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))

	// SCIM 2.0, under both bases (scim.Bases); paths are canonicalised before routing.
	for _, base := range []string{"/scim/v2", "/api/public/scim"} {
		m.Handle("GET "+base+"/ServiceProviderConfig", s.scimAuth(http.HandlerFunc(s.scim.ServiceProviderConfig), true))
		m.Handle("GET "+base+"/Users", s.scimAuth(http.HandlerFunc(s.scim.ListUsers), false))
	}

	// Instance admin API (ROSTER_ADMIN_API_KEY).
	m.Handle("POST /api/admin/organizations", s.admin(s.handle(s.adminCreateOrg)))
	m.Handle("GET /api/admin/organizations", s.admin(s.handle(s.adminListOrgs)))
	m.Handle("GET /api/admin/organizations/{id}", s.admin(s.handle(s.adminGetOrg)))
	m.Handle("PUT /api/admin/organizations/{id}", s.admin(s.handle(s.adminUpdateOrg)))
	m.Handle("DELETE /api/admin/organizations/{id}", s.admin(s.handle(s.adminDeleteOrg)))
	m.Handle("GET /api/admin/organizations/{id}/apiKeys", s.admin(s.handle(s.adminListKeys)))
	m.Handle("POST /api/admin/organizations/{id}/apiKeys", s.admin(s.handle(s.adminCreateKey)))
	m.Handle("DELETE /api/admin/organizations/{id}/apiKeys/{keyId}", s.admin(s.handle(s.adminDeleteKey)))

	// SCIM directory management (org key).
	m.Handle("GET /scim/directories", s.orgKey(s.handle(s.listDirectories)))
	m.Handle("POST /scim/directories", s.orgKey(s.handle(s.createDirectory)))
	m.Handle("GET /scim/directories/{id}", s.orgKey(s.handle(s.getDirectory)))
	m.Handle("PATCH /scim/directories/{id}", s.orgKey(s.handle(s.updateDirectory)))
	m.Handle("DELETE /scim/directories/{id}", s.orgKey(s.handle(s.deleteDirectory)))
	m.Handle("POST /scim/directories/{id}/regenerate-token", s.orgKey(s.handle(s.regenerateToken)))
}
