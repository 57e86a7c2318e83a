package roster

import (
	"strings"
	"time"
)

// MemberStatus is the lifecycle state of an organization member.
type MemberStatus string

// The member statuses. A suspended member keeps its data but has no access; a deleted one
// is kept for the audit trail with its email obfuscated, so the address can be used again.
const (
	MemberActive    MemberStatus = "active"
	MemberSuspended MemberStatus = "suspended"
	MemberDeleted   MemberStatus = "deleted"
)

// Member is a person in an organization: made by an admin, the CLI, or provisioned by SCIM.
type Member struct {
	ID        string       `json:"id"`
	OrgID     string       `json:"orgId"`
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	Status    MemberStatus `json:"status"`
	Role      Role         `json:"role"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

// NormalizeEmail is the form emails are matched in: trimmed and lower-cased. Emails of SCIM
// users need not be well-formed (identity providers send what they have), so it does not
// validate.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
