package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rosterhq/roster/internal/scim"
)

// routes is the one place that lists every route (Go 1.22 method patterns).
func (s *server) routes() {
	m := s.mux

	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))

	// SCIM 2.0, under both bases (scim.Bases); paths are canonicalised before routing.
	for _, base := range scim.Bases {
		open := func(h handlerFunc) http.Handler { return s.scimAuth(s.handle(h), true) }
		authed := func(h handlerFunc) http.Handler { return s.scimAuth(s.handle(h), false) }
		m.Handle("GET "+base+"/ServiceProviderConfig", open(s.scim.ServiceProviderConfig))
		m.Handle("GET "+base+"/ResourceTypes", open(s.scim.ResourceTypes))
		m.Handle("GET "+base+"/ResourceTypes/{id}", open(s.scim.ResourceType))
		m.Handle("GET "+base+"/Schemas", open(s.scim.Schemas))
		m.Handle("GET "+base+"/Schemas/{id}", open(s.scim.Schema))

		m.Handle("GET "+base+"/Users", authed(s.scim.ListUsers))
		m.Handle("POST "+base+"/Users", authed(s.scim.CreateUser))
		m.Handle("POST "+base+"/Users/.search", authed(s.scim.SearchUsers))
		m.Handle("GET "+base+"/Users/{id}", authed(s.scim.GetUser))
		m.Handle("PUT "+base+"/Users/{id}", authed(s.scim.ReplaceUser))
		m.Handle("PATCH "+base+"/Users/{id}", authed(s.scim.PatchUser))
		m.Handle("DELETE "+base+"/Users/{id}", authed(s.scim.DeleteUser))

		m.Handle("GET "+base+"/Groups", authed(s.scim.ListGroups))
		m.Handle("POST "+base+"/Groups", authed(s.scim.CreateGroup))
		m.Handle("POST "+base+"/Groups/.search", authed(s.scim.SearchGroups))
		m.Handle("GET "+base+"/Groups/{id}", authed(s.scim.GetGroup))
		m.Handle("PUT "+base+"/Groups/{id}", authed(s.scim.ReplaceGroup))
		m.Handle("PATCH "+base+"/Groups/{id}", authed(s.scim.PatchGroup))
		m.Handle("DELETE "+base+"/Groups/{id}", authed(s.scim.DeleteGroup))

		m.Handle("POST "+base+"/.search", authed(s.scim.SearchRoot))
		m.Handle("POST "+base+"/Bulk", authed(s.scim.Bulk))
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
	m.Handle("POST /api/admin/apiKeys/verify", s.admin(s.handle(s.verifyKey)))

	// Organization API (ABV / Langfuse shapes), by org key; a project key gets 403, or 404
	// on another project's routes.
	org := func(h handlerFunc) http.Handler { return s.orgKey(s.handle(h)) }
	m.Handle("GET /api/public/projects", s.projectOrOrgKey(s.handle(s.keyProjects)))
	m.Handle("POST /api/public/projects", org(s.createProject))
	m.Handle("PUT /api/public/projects/{projectId}", org(s.updateProject))
	m.Handle("DELETE /api/public/projects/{projectId}", org(s.deleteProject))
	m.Handle("GET /api/public/projects/{projectId}/apiKeys", org(s.listProjectKeys))
	m.Handle("POST /api/public/projects/{projectId}/apiKeys", org(s.createProjectKey))
	m.Handle("DELETE /api/public/projects/{projectId}/apiKeys/{apiKeyId}", org(s.deleteProjectKey))
	m.Handle("POST /api/public/projects/{projectId}/apiKeys/{apiKeyId}/rotate", org(s.rotateProjectKey))
	m.Handle("GET /api/public/projects/{projectId}/memberships", org(s.projectMemberships))
	m.Handle("PUT /api/public/projects/{projectId}/memberships", org(s.putProjectMembership))
	m.Handle("DELETE /api/public/projects/{projectId}/memberships", org(s.deleteProjectMembership))
	m.Handle("GET /api/public/organizations/projects", org(s.orgProjects))
	m.Handle("GET /api/public/organizations/memberships", org(s.orgMemberships))
	m.Handle("PUT /api/public/organizations/memberships", org(s.putOrgMembership))
	m.Handle("DELETE /api/public/organizations/memberships", org(s.deleteOrgMembership))
	m.Handle("POST /api/public/organizations/memberships/bulk", org(s.bulkMemberships))
	m.Handle("GET /api/public/organizations/memberships/{email}", org(s.memberAccess))
	m.Handle("GET /api/public/organizations/apiKeys", org(s.listOrgKeys))
	m.Handle("POST /api/public/organizations/apiKeys", org(s.createOrgKey))
	m.Handle("DELETE /api/public/organizations/apiKeys/{apiKeyId}", org(s.deleteOrgKey))

	// SCIM directory management (org key).
	m.Handle("GET /scim/directories", s.orgKey(s.handle(s.listDirectories)))
	m.Handle("POST /scim/directories", s.orgKey(s.handle(s.createDirectory)))
	m.Handle("GET /scim/directories/{id}", s.orgKey(s.handle(s.getDirectory)))
	m.Handle("PATCH /scim/directories/{id}", s.orgKey(s.handle(s.updateDirectory)))
	m.Handle("DELETE /scim/directories/{id}", s.orgKey(s.handle(s.deleteDirectory)))
	m.Handle("POST /scim/directories/{id}/regenerate-token", s.orgKey(s.handle(s.regenerateToken)))
	m.Handle("GET /scim/directories/{id}/requests", s.orgKey(s.handle(s.directoryRequests)))

	// Audit log, events and webhooks (org key; events.go).
	m.Handle("GET /api/public/audit-logs", s.orgKey(s.handle(s.listAuditLogs)))
	m.Handle("GET /api/public/events", s.orgKey(s.handle(s.listEvents)))
	m.Handle("GET /api/public/webhooks", s.orgKey(s.handle(s.listWebhooks)))
	m.Handle("POST /api/public/webhooks", s.orgKey(s.handle(s.createWebhook)))
	m.Handle("GET /api/public/webhooks/{id}", s.orgKey(s.handle(s.getWebhook)))
	m.Handle("PATCH /api/public/webhooks/{id}", s.orgKey(s.handle(s.updateWebhook)))
	m.Handle("DELETE /api/public/webhooks/{id}", s.orgKey(s.handle(s.deleteWebhook)))
	m.Handle("POST /api/public/webhooks/{id}/rotate-secret", s.orgKey(s.handle(s.rotateWebhookSecret)))
	m.Handle("GET /api/public/webhooks/{id}/deliveries", s.orgKey(s.handle(s.listDeliveries)))
	m.Handle("POST /api/public/webhooks/{id}/deliveries/{deliveryId}/redeliver", s.orgKey(s.handle(s.redeliver)))
	m.Handle("GET /scim/directories/{id}/group-mappings", s.orgKey(s.handle(s.groupMappings)))
	m.Handle("PUT /scim/directories/{id}/group-mappings", s.orgKey(s.handle(s.putGroupMappings)))

	// Signed-in members (session cookie; session.go).
	m.Handle("GET /session", s.member(s.handle(s.getSession)))
}
