package roster

import (
	"errors"
	"testing"
)

func TestTheProvisionedOrgRoleIsTheHighestOfRolesOrDefaultAndMappedGroups(t *testing.T) {
	for _, c := range []struct {
		name   string
		def    Role
		roles  []string
		mapped []Role
		want   Role
	}{
		{"no roles value takes the default", RoleViewer, nil, nil, RoleViewer},
		{"the default is NONE unless configured", RoleNone, nil, nil, RoleNone},
		{"an explicit value overrides a higher default", RoleAdmin, []string{"VIEWER"}, nil, RoleViewer},
		{"values are read in any case", RoleNone, []string{"member"}, nil, RoleMember},
		{"the highest of several values wins", RoleNone, []string{"VIEWER", "ADMIN", "MEMBER"}, nil, RoleAdmin},
		{"unknown values are ignored", RoleViewer, []string{"superuser"}, nil, RoleViewer},
		{"OWNER is never granted: capped to ADMIN", RoleNone, []string{"OWNER"}, nil, RoleAdmin},
		{"a mapped group raises the role", RoleNone, nil, []Role{RoleMember}, RoleMember},
		{"a mapped group never lowers it", RoleNone, []string{"ADMIN"}, []Role{RoleViewer}, RoleAdmin},
		{"the highest mapped group wins", RoleViewer, nil, []Role{RoleMember, RoleAdmin}, RoleAdmin},
		{"an invalid default grants nothing", Role("ROOT"), nil, nil, RoleNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ProvisionedOrgRole(c.def, c.roles, c.mapped); got != c.want {
				t.Errorf("ProvisionedOrgRole(%s, %v, %v) = %s, want %s", c.def, c.roles, c.mapped, got, c.want)
			}
		})
	}
}

func TestProvisioningNeverDemotesAnOwnerAndLinkingNeverLowers(t *testing.T) {
	for _, c := range []struct {
		name      string
		fn        func(Role, Role) (Role, bool)
		cur, want Role
		next      Role
		change    bool
	}{
		{"provisioning applies its role", NextOrgRole, RoleViewer, RoleAdmin, RoleAdmin, true},
		{"provisioning may lower a non-owner", NextOrgRole, RoleAdmin, RoleViewer, RoleViewer, true},
		{"provisioning never touches an OWNER", NextOrgRole, RoleOwner, RoleNone, RoleOwner, false},
		{"the same role is no change", NextOrgRole, RoleMember, RoleMember, RoleMember, false},
		{"linking raises", LinkedOrgRole, RoleNone, RoleMember, RoleMember, true},
		{"linking never lowers", LinkedOrgRole, RoleAdmin, RoleViewer, RoleAdmin, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, change := c.fn(c.cur, c.want)
			if next != c.next || change != c.change {
				t.Errorf("(%s, %s) = %s, %v; want %s, %v", c.cur, c.want, next, change, c.next, c.change)
			}
		})
	}
}

func TestGroupMappingsGiveOrgAndProjectRoles(t *testing.T) {
	maps := []GroupRoleMapping{
		{GroupID: "eng", Role: RoleMember},
		{GroupID: "leads", Role: RoleAdmin},
		{GroupID: "eng", ProjectID: "p1", Role: RoleViewer},
		{GroupID: "leads", ProjectID: "p1", Role: RoleAdmin},
		{GroupID: "ops", ProjectID: "p2", Role: RoleMember},
	}
	if got := ProvisionedOrgRole(RoleNone, nil, MappedOrgRoles(maps, []string{"eng", "leads"})); got != RoleAdmin {
		t.Errorf("eng+leads org role %s, want ADMIN", got)
	}
	roles, mapped := ProvisionedProjectRoles(maps, []string{"eng"})
	if roles["p1"] != RoleViewer || len(roles) != 1 || !mapped["p1"] || !mapped["p2"] {
		t.Errorf("eng's project roles %v over mapped projects %v", roles, mapped)
	}
	roles, _ = ProvisionedProjectRoles(maps, []string{"eng", "leads"})
	if roles["p1"] != RoleAdmin {
		t.Errorf("eng+leads in p1: %s, want the highest, ADMIN", roles["p1"])
	}
	for _, m := range []GroupRoleMapping{{GroupID: "g", Role: RoleOwner}, {GroupID: "g", ProjectID: "p", Role: RoleNone}, {GroupID: "g", Role: "ROOT"}} {
		if err := CheckMappingRole(m); KindOf(err) != Invalid {
			t.Errorf("CheckMappingRole(%+v) = %v, want Invalid", m, err)
		}
	}
	if err := CheckMappingRole(GroupRoleMapping{GroupID: "g", Role: RoleNone}); err != nil {
		t.Errorf("an org mapping to NONE: %v", err)
	}
}

func TestEffectiveAccessIsNoneUnlessActiveAndAProjectRoleOverrides(t *testing.T) {
	for _, c := range []struct {
		name      string
		status    MemberStatus
		org, proj Role
		has       bool
		want      Role
		inherited bool
	}{
		{"the org role applies to a project without a membership", MemberActive, RoleMember, "", false, RoleMember, true},
		{"a project role overrides a higher org role", MemberActive, RoleAdmin, RoleViewer, true, RoleViewer, false},
		{"a project role overrides a lower org role", MemberActive, RoleNone, RoleAdmin, true, RoleAdmin, false},
		{"a suspended member reaches nothing", MemberSuspended, RoleOwner, RoleAdmin, true, RoleNone, false},
		{"a deleted member reaches nothing", MemberDeleted, RoleOwner, "", false, RoleNone, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, inherited := EffectiveProjectRole(c.status, c.org, c.proj, c.has)
			if got != c.want || inherited != c.inherited {
				t.Errorf("= %s, %v; want %s, %v", got, inherited, c.want, c.inherited)
			}
		})
	}
	if EffectiveOrgRole(MemberSuspended, RoleAdmin) != RoleNone || EffectiveOrgRole(MemberActive, RoleAdmin) != RoleAdmin {
		t.Error("EffectiveOrgRole does not follow the status")
	}
	if !RoleAdmin.Can(RoleMember) || RoleViewer.Can(RoleMember) || RoleAdmin.Can(RoleNone) {
		t.Error("Can does not follow the order")
	}
}

func TestTheLastOwnerIsProtected(t *testing.T) {
	for _, c := range []struct {
		owners, demoted int
		refused         bool
	}{{1, 1, true}, {2, 1, false}, {2, 2, true}, {0, 0, false}, {3, 0, false}} {
		err := CheckOwners(c.owners, c.demoted)
		if (err != nil) != c.refused || (err != nil && (!errors.Is(err, ErrLastOwner) || KindOf(err) != Conflict)) {
			t.Errorf("CheckOwners(%d, %d) = %v, refused want %v", c.owners, c.demoted, err, c.refused)
		}
	}
	if SelfServiceAllowed(true) || !SelfServiceAllowed(false) {
		t.Error("a provisioned member may change its own email or leave")
	}
}
