package roster

// Provisioning into roles (DESIGN.md section 5), as pure functions: the SCIM layer reads what
// they need in its transaction and writes what they answer.

// GroupRoleMapping maps a SCIM group of a directory to an organization role (ProjectID
// empty) or to a role in one project. Members of the group get at least that role.
type GroupRoleMapping struct {
	DirectoryID string `json:"-"`
	GroupID     string `json:"groupId"`
	// GroupName is the group's displayName, filled on reads.
	GroupName string `json:"groupDisplayName"`
	ProjectID string `json:"projectId"`
	Role      Role   `json:"role"`
}

// CheckMappingRole refuses roles a mapping cannot give: OWNER never (provisioning never
// makes owners), and NONE for a project mapping (it would grant nothing).
func CheckMappingRole(m GroupRoleMapping) error {
	switch {
	case !m.Role.Valid():
		return E(Invalid, "unknown role %q: want ADMIN, MEMBER, VIEWER or NONE", m.Role)
	case m.Role == RoleOwner:
		return E(Invalid, "a group mapping cannot grant OWNER: provisioning never makes owners")
	case m.ProjectID != "" && m.Role == RoleNone:
		return E(Invalid, "a project group mapping must grant VIEWER, MEMBER or ADMIN")
	}
	return nil
}

// RoleFromValues reads an org role from SCIM roles values (["MEMBER"] or [{"value":"MEMBER"}],
// both normalized to values): the highest valid one. OWNER is capped to ADMIN, since
// provisioning never makes owners. found is false when no value names a role.
func RoleFromValues(values []string) (role Role, found bool) {
	best := RoleNone
	for _, v := range values {
		r, err := ParseRole(v)
		if err != nil {
			continue
		}
		if r == RoleOwner {
			r = RoleAdmin
		}
		if !found || r.Rank() > best.Rank() {
			best, found = r, true
		}
	}
	return best, found
}

// ProvisionedOrgRole is the organization role the identity provider asks for: the user's
// explicit roles value, else the directory's default role, raised by the mapped groups the
// user is in; the highest wins, and it is never OWNER.
func ProvisionedOrgRole(defaultRole Role, roles []string, mapped []Role) Role {
	role, ok := RoleFromValues(roles)
	if !ok {
		role = defaultRole
	}
	if !role.Valid() {
		role = RoleNone
	}
	for _, m := range mapped {
		role = Max(role, m)
	}
	if role == RoleOwner {
		role = RoleAdmin
	}
	return role
}

// NextOrgRole says what provisioning does to a member whose role is current when it asks
// for want: an OWNER is never demoted by SCIM (only an owner or the API changes owners), and
// otherwise the provisioned role applies. change is false when nothing is to be written.
func NextOrgRole(current, want Role) (next Role, change bool) {
	if current == RoleOwner || want == current {
		return current, false
	}
	if want == RoleOwner {
		want = RoleAdmin
	}
	return want, want != current
}

// LinkedOrgRole is the role of an existing member that a directory links to: linking never
// lowers a role.
func LinkedOrgRole(current, want Role) (next Role, change bool) {
	if want.Rank() > current.Rank() && current != RoleOwner {
		return NextOrgRole(current, want)
	}
	return current, false
}

// MappedOrgRoles returns the org roles that mappings give to a member of groups.
func MappedOrgRoles(mappings []GroupRoleMapping, groups []string) []Role {
	var out []Role
	for _, m := range mappings {
		if m.ProjectID == "" && contains(groups, m.GroupID) {
			out = append(out, m.Role)
		}
	}
	return out
}

// ProvisionedProjectRoles returns, for every project some mapping names, the role the
// member's groups give it there (absent: no mapped group of that project).
func ProvisionedProjectRoles(mappings []GroupRoleMapping, groups []string) (roles map[string]Role, mappedProjects map[string]bool) {
	roles, mappedProjects = map[string]Role{}, map[string]bool{}
	for _, m := range mappings {
		if m.ProjectID == "" {
			continue
		}
		mappedProjects[m.ProjectID] = true
		if contains(groups, m.GroupID) {
			r := m.Role
			if r == RoleOwner {
				r = RoleAdmin
			}
			if cur, ok := roles[m.ProjectID]; !ok || r.Rank() > cur.Rank() {
				roles[m.ProjectID] = r
			}
		}
	}
	return roles, mappedProjects
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
