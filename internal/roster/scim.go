package roster

import (
	"encoding/json"
	"time"
)

// SCIMUser is a User resource of one directory (RFC 7643 section 4.1), linked to the
// organization member it provisions. The searchable attributes are kept beside the full
// resource document so that filters, sorting and uniqueness run in the database.
type SCIMUser struct {
	ID          string
	OrgID       string
	DirectoryID string
	MemberID    string
	// UserName is returned exactly as the identity provider sent it; it is unique per
	// directory case-insensitively.
	UserName string
	// ExternalID is the identity provider's id, unique per directory (exact); "" for none.
	ExternalID  string
	Active      bool
	DisplayName string
	GivenName   string
	FamilyName  string
	// Email is the primary (else first) email, as sent.
	Email string
	// Roles are the values of the resource's roles attribute, as sent.
	Roles []string
	// Resource is the stored document without id, meta, groups and password.
	Resource json.RawMessage
	// Groups are the groups the user is a direct member of, read with the user.
	Groups    []GroupRef
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SCIMGroup is a Group resource of one directory (RFC 7643 section 4.2). Its members are
// rows of their own, never part of the document, so that one change never rewrites a list of
// a hundred thousand members.
type SCIMGroup struct {
	ID          string
	OrgID       string
	DirectoryID string
	DisplayName string
	ExternalID  string
	// Resource is the stored document without id, meta and members.
	Resource  json.RawMessage
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupMember is one member of a SCIM group.
type GroupMember struct {
	// Value is the id of the member resource.
	Value string `json:"value"`
	// Type is "User" or "Group".
	Type string `json:"type"`
	// Display is the member's display name at read time.
	Display string `json:"display,omitempty"`
}

// GroupRef is a group a user belongs to (the read-only User "groups" attribute).
type GroupRef struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// SCIMRequest is one entry of a directory's request log: what an identity provider asked
// and how it was answered. It never holds a body or a credential.
type SCIMRequest struct {
	OrgID       string        `json:"-"`
	DirectoryID string        `json:"-"`
	At          time.Time     `json:"time"`
	Method      string        `json:"method"`
	Path        string        `json:"path"`
	Status      int           `json:"status"`
	ScimType    string        `json:"scimType,omitempty"`
	Detail      string        `json:"detail,omitempty"`
	Latency     time.Duration `json:"-"`
	RequestID   string        `json:"requestId"`
}
