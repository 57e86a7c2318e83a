package roster

import "strings"

// Role is an organization or project role. The order is OWNER > ADMIN > MEMBER > VIEWER > NONE.
type Role string

// The roles, highest first.
const (
	RoleOwner  Role = "OWNER"
	RoleAdmin  Role = "ADMIN"
	RoleMember Role = "MEMBER"
	RoleViewer Role = "VIEWER"
	RoleNone   Role = "NONE"
)

// Rank orders roles: a higher rank grants everything a lower one does. Unknown roles rank
// below NONE so that they never grant anything.
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	case RoleNone:
		return 0
	}
	return -1
}

// Valid reports whether r is one of the five roles.
func (r Role) Valid() bool { return r.Rank() >= 0 }

// AtLeast reports whether r grants at least what min grants.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.Rank() >= min.Rank() }

// ParseRole accepts a role name in any case ("member", "Member") and returns it canonical.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", E(Invalid, "unknown role %q: want OWNER, ADMIN, MEMBER, VIEWER or NONE", s)
	}
	return r, nil
}

// Max returns the higher of two roles.
func Max(a, b Role) Role {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}
