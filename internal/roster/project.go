package roster

import (
	"bytes"
	"encoding/json"
	"time"
)

// Project is a unit of work inside an organization (the Langfuse project): it has API keys
// of its own and memberships that override the organization role.
type Project struct {
	ID    string `json:"id"`
	OrgID string `json:"orgId"`
	Name  string `json:"name"`
	// Metadata is a JSON object chosen by the caller, or nil for none.
	Metadata  json.RawMessage `json:"metadata"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// MaxMetadataBytes bounds a project's metadata document.
const MaxMetadataBytes = 16 << 10

// CleanMetadata checks that raw is absent, null or a JSON object of bounded size, and
// returns it compacted (nil for absent or null).
func CleanMetadata(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if len(raw) > MaxMetadataBytes {
		return nil, E(Invalid, "metadata is larger than %d bytes", MaxMetadataBytes)
	}
	if raw[0] != '{' {
		return nil, E(Invalid, "metadata must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, E(Invalid, "metadata is not valid JSON")
	}
	return buf.Bytes(), nil
}

// ProjectMembership is a member's role in one project. It overrides the member's
// organization role for that project, and requires an organization membership.
type ProjectMembership struct {
	OrgID     string `json:"orgId"`
	ProjectID string `json:"projectId"`
	MemberID  string `json:"userId"`
	Role      Role   `json:"role"`
	// Source says who set it: SourceAPI (an admin, through the API or console) or
	// SourceSCIM (a group-to-role mapping of a directory).
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// The sources of a project membership.
const (
	SourceAPI  = "api"
	SourceSCIM = "scim"
)

// ProjectMember is a project membership with the member it belongs to, as listed.
type ProjectMember struct {
	Member
	ProjectRole Role `json:"projectRole"`
}
