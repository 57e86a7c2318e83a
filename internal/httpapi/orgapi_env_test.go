package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Fixtures of the organization API, made through the store and auth.Service the way the CLI
// and the API make them.

var fixtureSeq atomic.Int64

func (e *env) newProject(t testing.TB, orgID, name string) string {
	t.Helper()
	p := &roster.Project{OrgID: orgID, Name: fmt.Sprintf("%s %d", name, fixtureSeq.Add(1))}
	if err := e.st.Tx(context.Background(), cli, func(tx store.Tx) error { return tx.CreateProject(context.Background(), p) }); err != nil {
		t.Fatalf("creating project: %v", err)
	}
	return p.ID
}

func (e *env) newProjectKey(t testing.TB, orgID, projectID string) (keyID, pk, sk string) {
	t.Helper()
	k, secret, err := e.svc.CreateProjectKey(context.Background(), cli, orgID, projectID, auth.KeyRequest{})
	if err != nil {
		t.Fatalf("creating project key: %v", err)
	}
	return k.ID, k.PublicKey, secret
}

func (e *env) newMember(t testing.TB, orgID, email string, role roster.Role) string {
	t.Helper()
	m := &roster.Member{OrgID: orgID, Email: email, Name: "Member " + email, Role: role}
	if err := e.st.Tx(context.Background(), cli, func(tx store.Tx) error { return tx.CreateMember(context.Background(), m) }); err != nil {
		t.Fatalf("creating member: %v", err)
	}
	return m.ID
}

func (e *env) setProjectRole(t testing.TB, orgID, projectID, memberID string, role roster.Role) {
	t.Helper()
	ctx := context.Background()
	if err := e.st.Tx(ctx, cli, func(tx store.Tx) error {
		m, err := tx.GetMember(ctx, orgID, memberID)
		if err != nil {
			return err
		}
		return tx.SetProjectRoles(ctx, orgID, []store.ProjectRoleChange{{ProjectID: projectID, Member: m, Role: role, Source: roster.SourceAPI}})
	}); err != nil {
		t.Fatalf("setting project role: %v", err)
	}
}

// orgFixtures makes, in org A: project {proj} with key {projKey} ({basicProj}), project
// {proj2} with key {basicProj2}, member {member} ({memberEmail}) with a project membership
// in {proj}, a second org key {orgKey2}; and in org B project {projB}.
func orgFixtures(t *testing.T, e *env, v vars) {
	t.Helper()
	n := fixtureSeq.Add(1)
	v["proj"] = e.newProject(t, e.a.orgID, "Checkout")
	var pk, sk string
	v["projKey"], pk, sk = e.newProjectKey(t, e.a.orgID, v["proj"])
	v["basicProj"], v["projPK"], v["projSK"] = basicAuth(pk, sk), pk, sk
	v["proj2"] = e.newProject(t, e.a.orgID, "Search")
	_, pk, sk = e.newProjectKey(t, e.a.orgID, v["proj2"])
	v["basicProj2"] = basicAuth(pk, sk)
	v["memberEmail"] = fmt.Sprintf("Ada.%d@Example.com", n)
	v["memberEmailPath"] = url.PathEscape(v["memberEmail"])
	v["member"] = e.newMember(t, e.a.orgID, v["memberEmail"], roster.RoleMember)
	e.setProjectRole(t, e.a.orgID, v["proj"], v["member"], roster.RoleViewer)
	v["orgKey2"], _, _ = e.newKey(t, e.a.orgID)
	v["projB"] = e.newProject(t, e.b.orgID, "Other")
}
