// Package scim is Roster's SCIM 2.0 service provider (RFC 7643, RFC 7644): discovery
// documents, resources, filters, PATCH, paging and the SCIM error format. Handlers read the
// authenticated principal from the request context; authentication itself is the HTTP
// layer's job.
package scim
