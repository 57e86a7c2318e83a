package roster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoleAwareScopeTrimming(t *testing.T) {
	asked := []string{"openid", "profile", "email", "offline_access", "user.read", "org.read", "projects.read", "openid"}
	self := []string{"openid", "profile", "email", "offline_access", "user.read"}
	all := append(append([]string{}, self...), "org.read", "projects.read")
	for _, c := range []struct {
		role Role
		want []string
	}{
		{RoleNone, self},
		{RoleViewer, all},
		{RoleMember, all},
		{RoleAdmin, all},
		{RoleOwner, all},
		{Role("BOGUS"), []string{}},
	} {
		if diff := cmp.Diff(c.want, TrimScopes(asked, c.role)); diff != "" {
			t.Errorf("%s may be granted (-want +got):\n%s", c.role, diff)
		}
	}
	if got := TrimScopes([]string{"admin", "openid"}, RoleOwner); !cmp.Equal(got, []string{"openid"}) {
		t.Errorf("an unknown scope was granted: %v", got)
	}
}
