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

	// OAuth app management (org key; oauth_apps.go).
	m.Handle("GET /oauth/apps", s.orgKey(s.handle(s.listOAuthApps)))
	m.Handle("POST /oauth/apps", s.orgKey(s.handle(s.createOAuthApp)))
	m.Handle("GET /oauth/apps/{id}", s.orgKey(s.handle(s.getOAuthApp)))
	m.Handle("PATCH /oauth/apps/{id}", s.orgKey(s.handle(s.updateOAuthApp)))
	m.Handle("DELETE /oauth/apps/{id}", s.orgKey(s.handle(s.deleteOAuthApp)))
	m.Handle("POST /oauth/apps/{id}/rotate-secret", s.orgKey(s.handle(s.rotateOAuthAppSecret)))

	// OAuth 2.0 / OpenID Connect provider (internal/oauth: RFC 6749 errors, client
	// authentication of its own). Token, revocation and userinfo answer CORS preflights for
	// the origins apps allow.
	o := s.OAuth
	m.HandleFunc("GET /.well-known/openid-configuration", o.Discovery)
	m.HandleFunc("GET /oauth/jwks", o.JWKS)
	m.HandleFunc("GET /oauth/authorize", o.Authorize)
	m.HandleFunc("POST /oauth/authorize", o.Authorize)
	m.HandleFunc("POST /oauth/token", o.Token)
	m.HandleFunc("OPTIONS /oauth/token", o.Preflight)
	m.HandleFunc("GET /oauth/userinfo", o.UserInfo)
	m.HandleFunc("POST /oauth/userinfo", o.UserInfo)
	m.HandleFunc("OPTIONS /oauth/userinfo", o.Preflight)
	m.HandleFunc("POST /oauth/revoke", o.Revoke)
	m.HandleFunc("OPTIONS /oauth/revoke", o.Preflight)
	m.HandleFunc("POST /oauth/introspect", o.Introspect)
	// Signed-in members (session cookie; session.go).
	m.Handle("GET /session", s.member(s.handle(s.getSession)))

	// The admin console (internal/admin): pages for signed-in members, cross-origin posts
	// refused. See, Change, Own and Self check the member's organization and role.
	c := s.console
	page := func(h http.HandlerFunc) http.Handler { return s.optionalMember(h) }
	m.HandleFunc("GET /static/", c.Static)
	m.Handle("GET /{$}", page(c.Root))
	m.Handle("GET /login", page(c.LoginForm))
	m.Handle("POST /login", page(c.Login))
	m.Handle("POST /logout", page(c.Logout))
	m.Handle("GET /password/{token}", page(c.PasswordForm))
	m.Handle("POST /password/{token}", page(c.SetPassword))
	m.Handle("GET /orgs/{orgId}/{$}", page(c.OrgRoot))
	m.Handle("GET /orgs/{orgId}/members", page(c.See(c.Members)))
	m.Handle("POST /orgs/{orgId}/members/{memberId}/role", page(c.Change(c.SetRole)))
	m.Handle("POST /orgs/{orgId}/members/{memberId}/remove", page(c.Change(c.RemoveMember)))
	m.Handle("POST /orgs/{orgId}/members/{memberId}/reset-link", page(c.Own(c.ResetLink)))
	m.Handle("POST /orgs/{orgId}/invitations", page(c.Change(c.Invite)))
	m.Handle("POST /orgs/{orgId}/invitations/{linkId}/revoke", page(c.Change(c.RevokeLink)))
	m.Handle("GET /orgs/{orgId}/projects", page(c.See(c.Projects)))
	m.Handle("POST /orgs/{orgId}/projects", page(c.Change(c.CreateProject)))
	m.Handle("GET /orgs/{orgId}/projects/{projectId}", page(c.See(c.Project)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/rename", page(c.Change(c.RenameProject)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/delete", page(c.Change(c.DeleteProject)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/members", page(c.Change(c.SetProjectRole)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/members/{memberId}/remove", page(c.Change(c.RemoveProjectMember)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/keys", page(c.Change(c.CreateProjectKey)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/keys/{keyId}/rotate", page(c.Change(c.RotateProjectKey)))
	m.Handle("POST /orgs/{orgId}/projects/{projectId}/keys/{keyId}/revoke", page(c.Change(c.RevokeProjectKey)))
	m.Handle("GET /orgs/{orgId}/api-keys", page(c.See(c.APIKeys)))
	m.Handle("POST /orgs/{orgId}/api-keys", page(c.Change(c.CreateOrgKey)))
	m.Handle("POST /orgs/{orgId}/api-keys/{keyId}/rotate", page(c.Change(c.RotateOrgKey)))
	m.Handle("POST /orgs/{orgId}/api-keys/{keyId}/revoke", page(c.Change(c.RevokeOrgKey)))
	m.Handle("GET /orgs/{orgId}/scim", page(c.See(c.SCIM)))
	m.Handle("POST /orgs/{orgId}/scim", page(c.Change(c.EnableSCIM)))
	m.Handle("GET /orgs/{orgId}/scim/{dirId}", page(c.See(c.Directory)))
	m.Handle("POST /orgs/{orgId}/scim/{dirId}/regenerate", page(c.Change(c.RegenerateToken)))
	m.Handle("POST /orgs/{orgId}/scim/{dirId}/settings", page(c.Change(c.DirectorySettings)))
	m.Handle("POST /orgs/{orgId}/scim/{dirId}/delete", page(c.Change(c.DeleteDirectory)))
	m.Handle("POST /orgs/{orgId}/scim/{dirId}/group-mappings", page(c.Change(c.AddMapping)))
	m.Handle("POST /orgs/{orgId}/scim/{dirId}/group-mappings/remove", page(c.Change(c.RemoveMapping)))
	m.Handle("GET /login/sso", page(c.LoginSSO))
	m.Handle("GET /orgs/{orgId}/sso", page(c.See(c.SSOPage)))
	m.Handle("POST /orgs/{orgId}/sso/saml", page(c.Change(c.CreateSAMLConnection)))
	m.Handle("POST /orgs/{orgId}/sso/oidc", page(c.Change(c.CreateOIDCConnection)))
	m.Handle("POST /orgs/{orgId}/sso/{protocol}/{connId}/toggle", page(c.Change(c.ToggleConnection)))
	m.Handle("POST /orgs/{orgId}/sso/{protocol}/{connId}/delete", page(c.Change(c.DeleteConnection)))
	m.Handle("POST /orgs/{orgId}/sso/enforce", page(c.Change(c.Enforce)))
	m.Handle("GET /orgs/{orgId}/webhooks", page(c.See(c.Webhooks)))
	m.Handle("POST /orgs/{orgId}/webhooks", page(c.Change(c.CreateWebhook)))
	m.Handle("GET /orgs/{orgId}/webhooks/{webhookId}", page(c.See(c.Webhook)))
	m.Handle("POST /orgs/{orgId}/webhooks/{webhookId}/toggle", page(c.Change(c.ToggleWebhook)))
	m.Handle("POST /orgs/{orgId}/webhooks/{webhookId}/rotate-secret", page(c.Change(c.RotateWebhookSecret)))
	m.Handle("POST /orgs/{orgId}/webhooks/{webhookId}/delete", page(c.Change(c.DeleteWebhook)))
	m.Handle("POST /orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", page(c.Change(c.Redeliver)))
	m.Handle("GET /orgs/{orgId}/audit", page(c.See(c.Audit)))
	m.Handle("GET /orgs/{orgId}/audit/export", page(c.See(c.AuditExport)))
	m.Handle("GET /orgs/{orgId}/account", page(c.Self(c.Account)))
	m.Handle("POST /orgs/{orgId}/account/totp/begin", page(c.Self(c.BeginTOTP)))
	m.Handle("POST /orgs/{orgId}/account/totp/confirm", page(c.Self(c.ConfirmTOTP)))
	m.Handle("POST /orgs/{orgId}/account/totp/disable", page(c.Self(c.DisableTOTP)))
	// SSO (sso.Service): connection management by org key; the login flows are browser
	// routes without credentials. The SAML callbacks are cross-site POSTs from the IdP by
	// design: no cross-origin check, their login state is server-side.
	m.Handle("GET /saml/metadata/{orgId}", s.handle(s.SSO.HandleMetadata))
	m.Handle("GET /saml/connections", s.orgKey(s.handle(s.listSAMLConnections)))
	m.Handle("POST /saml/connections", s.orgKey(s.handle(s.createSAMLConnection)))
	m.Handle("PATCH /saml/connections/{id}", s.orgKey(s.handle(s.updateSAMLConnection)))
	m.Handle("DELETE /saml/connections/{id}", s.orgKey(s.handle(s.deleteSAMLConnection)))
	m.Handle("PATCH /saml/enforce", s.orgKey(s.handle(s.enforceSSO)))
	m.Handle("GET /saml/authorize/{orgId}", s.handle(s.SSO.HandleSAMLAuthorize))
	m.Handle("POST /saml/callback", s.handle(s.SSO.HandleSAMLCallback))
	m.Handle("POST /saml/callback/{connectionId}", s.handle(s.SSO.HandleSAMLConnectionCallback))
	m.Handle("GET /saml/check", s.handle(s.SSO.HandleCheck))
	m.Handle("GET /saml/logout/{orgId}", s.handle(s.SSO.HandleLogout))
	m.Handle("GET /saml/logout/callback", s.handle(s.SSO.HandleLogoutCallback))
	m.Handle("POST /saml/logout/callback", s.handle(s.SSO.HandleLogoutCallback))
	m.Handle("GET /oidc/connections", s.orgKey(s.handle(s.listOIDCConnections)))
	m.Handle("POST /oidc/connections", s.orgKey(s.handle(s.createOIDCConnection)))
	m.Handle("PATCH /oidc/connections/{id}", s.orgKey(s.handle(s.updateOIDCConnection)))
	m.Handle("DELETE /oidc/connections/{id}", s.orgKey(s.handle(s.deleteOIDCConnection)))
	m.Handle("GET /oidc/authorize/{orgId}", s.handle(s.SSO.HandleOIDCAuthorize))
	m.Handle("GET /oidc/callback", s.handle(s.SSO.HandleOIDCCallback))
	m.Handle("POST /api/admin/organizations/{id}/sso/domains/{domain}/verify", s.admin(s.handle(s.adminVerifyDomain)))
}
