// Package admin is the admin console: server-rendered pages (html/template, embedded from
// web/) under /orgs/{orgId}/ where an organization's members set up provisioning, keys and
// webhooks, and read the audit log, each acting with the signed-in member's role: VIEWER and
// above see, ADMIN and OWNER change, nobody sees another organization. Every form works
// without JavaScript; htmx only enhances. Cross-site form posts are refused by
// http.CrossOriginProtection (the session cookie is SameSite=Lax besides).
package admin
