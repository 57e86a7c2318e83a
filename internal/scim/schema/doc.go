// Package schema holds Roster's SCIM attribute definitions: the User, Group and Enterprise
// User schemas of RFC 7643 sections 4.1 to 4.3, with the characteristics of RFC 7643
// section 2.2 (type, mutability, returned, uniqueness, case sensitivity) exactly as the
// normative JSON of RFC 7643 section 8.7.1 lists them, and the User and Group resource
// types of RFC 7643 section 6.
//
// It is the one source of truth for attributes. The discovery endpoints of RFC 7644
// section 4 (/Schemas, /ResourceTypes) are rendered from it by SchemasDocument and
// ResourceTypesDocument; request validation, attribute projection (RFC 7644 section
// 3.4.2.5), PATCH paths and filters resolve attribute names through Schema.Attr,
// Attribute.Sub and ResourceType.Resolve, all case-insensitive as RFC 7643 section 2.1
// requires.
//
// The common attributes of RFC 7643 section 3.1 (id, externalId, meta) are part of the
// User and Group definitions here so that their returnability and mutability come from
// the same place as everything else, but they are left out of the schema documents, as
// RFC 7643 section 8.7.1 leaves them out (see Common).
//
// Every value in this package is read-only: callers must not modify the definitions.
package schema
