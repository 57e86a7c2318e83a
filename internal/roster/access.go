package roster

import "errors"

// Effective access is computed here and nowhere else: the organization role of an active
// member, overridden per project by a project membership (DESIGN.md section 5). A member that
// is not active (suspended by its identity provider, or deleted) has no access at all,
// whatever its stored roles say, so a deactivation takes effect at once.

// EffectiveOrgRole is the organization role a member acts with.
func EffectiveOrgRole(status MemberStatus, orgRole Role) Role {
	if status != MemberActive || !orgRole.Valid() {
		return RoleNone
	}
	return orgRole
}

// EffectiveProjectRole is the role a member acts with in one project: the project
// membership's role when there is one, else the organization role. inherited reports that
// the organization role applied.
func EffectiveProjectRole(status MemberStatus, orgRole Role, projectRole Role, hasProjectRole bool) (role Role, inherited bool) {
	if status != MemberActive {
		return RoleNone, !hasProjectRole
	}
	if hasProjectRole && projectRole.Valid() {
		return projectRole, false
	}
	return EffectiveOrgRole(status, orgRole), true
}

// Can reports whether a member with effective role r may do what needs at least min.
func (r Role) Can(min Role) bool { return min != RoleNone && r.AtLeast(min) }

// ErrLastOwner is wrapped by the Conflict that refuses removing or demoting an
// organization's last OWNER; errors.Is finds it.
var ErrLastOwner = errors.New("last owner")

// LastOwnerError is the error that refuses a change which would leave no OWNER.
func LastOwnerError() error {
	return Wrap(Conflict, ErrLastOwner, "the last OWNER of an organization cannot be removed or demoted")
}

// CheckOwners refuses a change that takes the OWNER role from demoted members when the
// organization has owners members in all (live members with the OWNER role) and none would
// remain. An organization with no owner at all (made by the CLI or the admin API) is not
// protected: there is nothing to keep.
func CheckOwners(owners, demoted int) error {
	if owners > 0 && demoted >= owners {
		return LastOwnerError()
	}
	return nil
}

// ParseProjectRole reads a project role: OWNER, ADMIN, MEMBER, VIEWER or NONE (an override
// that takes a member's access to one project away).
func ParseProjectRole(s string) (Role, error) { return ParseRole(s) }

// SelfServiceAllowed reports whether a member may change its own email or leave the
// organization: not when an identity provider provisions it (only the IdP or an owner may).
func SelfServiceAllowed(provisioned bool) bool { return !provisioned }
