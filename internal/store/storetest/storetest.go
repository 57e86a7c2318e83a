package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Run runs the conformance suite. open is called once per case and must return a fresh,
// empty store, closed by the backend's helper at the end of the test (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, open(t))
		})
	}
}

// storeCase is one case of the suite: a name and its test.
type storeCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

var cases = []storeCase{
	// Organizations.
	{"an organization reads back as it was created", orgReadsBack},
	{"an organization update changes its name and updatedAt but not createdAt", orgUpdate},
	{"a missing organization is NotFound to get, update and delete", orgMissing},
	{"five organizations listed two at a time come back each exactly once in order", orgPaging},
	{"deleting an organization takes its keys, directories and tokens with it", orgDeleteCascades},

	// Organization API keys.
	{"an org key reads back by id, in its organization's list and by its public key", orgKeyReadsBack},
	{"a deleted org key is NotFound by id and by public key", orgKeyDelete},
	{"a key or directory for a missing organization is NotFound, never Internal", missingOrgIsNotFound},

	// SCIM directories.
	{"a directory reads back with its first token's prefix and expiry", directoryReadsBack},
	{"a directory created without a token reads back with no token", directoryWithoutToken},
	{"a directory update changes its name, enabled flag and default role", directoryUpdate},
	{"an organization has at most one default directory", directoryOneDefault},
	{"a deleted directory is NotFound and its token stops working", directoryDelete},

	// Directory tokens.
	{"a live token is found by its hash together with its directory", tokenLookup},
	{"a token is not found once it has expired", tokenExpired},
	{"rotating without grace revokes the old token at once and the new one works", tokenRotateNow},
	{"rotating with grace keeps the old token working until the grace ends", tokenRotateGrace},
	{"rotating with grace never extends an old token that expires sooner", tokenRotateKeepsEarlierExpiry},
	{"a token verified just before it is revoked, disabled or deleted is refused right after", tokenRevokedAfterUse},

	// SCIM provisioning.
	{"IsNewSCIMPerson and RequireNewSCIMPerson see a taken userName, a deactivated externalId and a live email, in its tenant only", newSCIMPerson},

	// Tenant isolation.
	{"org B never sees org A's keys", isolationKeys},
	{"org B never sees org A's directories", isolationDirectories},
	{"org B cannot change or delete org A's keys and directories", isolationWrites},
	{"org B's audit log holds nothing of org A", isolationAudit},

	// Uniqueness under concurrency.
	{"of sixteen concurrent keys with one public key exactly one is created", uniqueOrgKey},
	{"of sixteen concurrent directory tokens with one hash exactly one is created", uniqueTokenHash},

	// Transactions and the audit log.
	{"a transaction that fails leaves neither the organization nor its audit record", txRollback},
	{"a transaction whose second write fails leaves nothing of its first", txRollbackOnStoreError},
	{"a committed change leaves one audit record with actor, target, snapshot and request metadata", txAuditRecord},
	{"every write leaves exactly one audit record named for its action", auditEveryWrite},
	{"audit snapshots never contain a secret hash", auditNoSecretHash},
	{"the audit log pages by descending id with every record exactly once", auditPaging},

	// Credential bookkeeping.
	{"TouchLastUsed records the latest use and never moves it backwards", touchLastUsed},
	{"ExpiringCredentials lists what expires inside the window and nothing outside it", expiringWindow},
	{"ExpiringCredentials lists only a directory's newest token after a rotation with grace", expiringAfterRotation},

	// Concurrent writers.
	{"the SCIM request log keeps each directory's newest entries, newest first, in its tenant only", requestLog},
	{"two hundred organizations created by eight writers at once all commit", concurrentWrites},
}

// testActor is the actor of the suite's own writes.
var testActor = roster.SystemActor("storetest")

const (
	day  = 24 * time.Hour
	year = roster.DefaultTokenTTL
)

// now is the wall clock at the precision every backend keeps (microseconds).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// tx runs fn in one transaction and fails the test if it does not commit.
func tx(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Tx(t.Context(), testActor, fn); err != nil {
		t.Fatalf("transaction failed: %v", err)
	}
}

func createOrg(t *testing.T, s store.Store, name string) roster.Organization {
	t.Helper()
	o := &roster.Organization{Name: name}
	tx(t, s, func(tx store.Tx) error { return tx.CreateOrganization(t.Context(), o) })
	if o.ID == "" || o.CreatedAt.IsZero() {
		t.Fatalf("CreateOrganization left id %q and createdAt %v: it must fill both", o.ID, o.CreatedAt)
	}
	return *o
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newKey returns an unsaved org key pair of orgID, as the credential layer would make it.
func newKey(orgID string) *roster.APIKey {
	secret := "sk-org-" + rand.Text()
	return &roster.APIKey{
		OrgID:            orgID,
		PublicKey:        "pk-org-" + rand.Text(),
		SecretHash:       sha(secret),
		DisplaySecretKey: "sk-org-..." + secret[len(secret)-4:],
		Note:             "conformance",
	}
}

func createKey(t *testing.T, s store.Store, orgID string, expires *time.Time) roster.APIKey {
	t.Helper()
	k := newKey(orgID)
	k.ExpiresAt = expires
	tx(t, s, func(tx store.Tx) error { return tx.CreateOrgKey(t.Context(), k) })
	if k.ID == "" || k.CreatedAt.IsZero() {
		t.Fatalf("CreateOrgKey left id %q and createdAt %v: it must fill both", k.ID, k.CreatedAt)
	}
	return *k
}

// newToken returns an unsaved directory token expiring at expires.
func newToken(expires time.Time) *roster.DirectoryToken {
	v := "scim_" + rand.Text() + rand.Text()
	return &roster.DirectoryToken{Prefix: v[:9], Hash: sha(v), ExpiresAt: expires}
}

// createDir creates d with its first token tok (nil for none) and returns both as saved.
func createDir(t *testing.T, s store.Store, d roster.Directory, tok *roster.DirectoryToken) (roster.Directory, *roster.DirectoryToken) {
	t.Helper()
	if d.DefaultRole == "" {
		d.DefaultRole = roster.RoleNone
	}
	tx(t, s, func(tx store.Tx) error { return tx.CreateDirectory(t.Context(), &d, tok) })
	if d.ID == "" || d.CreatedAt.IsZero() {
		t.Fatalf("CreateDirectory left id %q and createdAt %v: it must fill both", d.ID, d.CreatedAt)
	}
	if tok != nil && (tok.ID == "" || tok.DirectoryID != d.ID || tok.OrgID != d.OrgID) {
		t.Fatalf("CreateDirectory left its token as id %q, directory %q, org %q: want a new id, directory %q, org %q",
			tok.ID, tok.DirectoryID, tok.OrgID, d.ID, d.OrgID)
	}
	return d, tok
}

func rotate(t *testing.T, s store.Store, d roster.Directory, tok *roster.DirectoryToken, oldExpireAt time.Time) {
	t.Helper()
	tok.OrgID, tok.DirectoryID = d.OrgID, d.ID
	tx(t, s, func(tx store.Tx) error { return tx.RotateDirectoryToken(t.Context(), tok, oldExpireAt) })
	if tok.ID == "" {
		t.Fatalf("RotateDirectoryToken left the new token without an id")
	}
}

// wantErr fails unless err is of the kind of sentinel want.
func wantErr(t *testing.T, err, want error, format string, args ...any) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v (kind %v), want %v", fmt.Sprintf(format, args...), err, roster.KindOf(err), roster.KindOf(want))
	}
}

// lookupFinds asserts that the token with hash is live at at and belongs to wantTok's directory.
func lookupFinds(t *testing.T, s store.Store, wantTok *roster.DirectoryToken, at time.Time, why string) *roster.DirectoryToken {
	t.Helper()
	tok, dir, err := s.LookupDirectoryToken(t.Context(), wantTok.Hash, at)
	if err != nil {
		t.Errorf("LookupDirectoryToken at %v: %v; want the token found (%s)", at, err, why)
		return nil
	}
	if tok.ID != wantTok.ID || tok.DirectoryID != wantTok.DirectoryID || dir.ID != wantTok.DirectoryID {
		t.Errorf("LookupDirectoryToken found token %q of directory %q (directory row %q); want token %q of directory %q",
			tok.ID, tok.DirectoryID, dir.ID, wantTok.ID, wantTok.DirectoryID)
	}
	return tok
}

// lookupMisses asserts that no live token has hash at at.
func lookupMisses(t *testing.T, s store.Store, hash []byte, at time.Time, why string) {
	t.Helper()
	tok, _, err := s.LookupDirectoryToken(t.Context(), hash, at)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupDirectoryToken at %v: got token %+v, error %v; want NotFound (%s)", at, tok, err, why)
	}
}

// allAudit reads every audit record of orgID matching f, following the cursor.
func allAudit(t *testing.T, s store.Store, orgID string, f store.AuditFilter) []roster.AuditRecord {
	t.Helper()
	var out []roster.AuditRecord
	f.Limit = 1000
	for range 100 {
		recs, next, err := s.ListAudit(t.Context(), orgID, f)
		if err != nil {
			t.Fatalf("ListAudit(%s, %+v): %v", orgID, f, err)
		}
		out = append(out, recs...)
		if next == "" {
			return out
		}
		f.After = next
	}
	t.Fatalf("ListAudit(%s) still returned a cursor after 100 pages: the last page must return an empty one", orgID)
	return nil
}

// allOrgs reads every organization, limit at a time.
func allOrgs(t *testing.T, s store.Store, limit int) []roster.Organization {
	t.Helper()
	var out []roster.Organization
	p := store.Page{Limit: limit}
	for range 1000 {
		orgs, next, err := s.ListOrganizations(t.Context(), p)
		if err != nil {
			t.Fatalf("ListOrganizations(%+v): %v", p, err)
		}
		out = append(out, orgs...)
		if next == "" {
			return out
		}
		p.After = next
	}
	t.Fatalf("ListOrganizations still returned a cursor after 1000 pages: the last page must return an empty one")
	return nil
}

func ids[T any](rows []T, id func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func keyID(k roster.APIKey) string       { return k.ID }
func dirID(d roster.Directory) string    { return d.ID }
func orgID(o roster.Organization) string { return o.ID }

// sortByID makes list comparisons independent of a backend's list order where the
// interface does not promise one.
var sortByID = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// --- Organizations ---

func orgReadsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := roster.Organization{Name: "Acme"}
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, &o); err != nil {
			return err
		}
		if _, err := tx.GetOrganization(ctx, o.ID); err != nil {
			t.Errorf("GetOrganization inside the creating transaction: %v; a transaction must read its own writes", err)
		}
		return nil
	})
	if o.ID == "" || o.CreatedAt.IsZero() || o.UpdatedAt.IsZero() {
		t.Fatalf("CreateOrganization left id %q, createdAt %v, updatedAt %v: it must fill all three", o.ID, o.CreatedAt, o.UpdatedAt)
	}
	got, err := s.GetOrganization(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrganization(%s): %v; want the organization just created", o.ID, err)
	}
	if diff := cmp.Diff(o, *got); diff != "" {
		t.Errorf("GetOrganization returned something else than was created (-created +got):\n%s", diff)
	}
}

func orgUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	time.Sleep(2 * time.Millisecond)
	u := roster.Organization{ID: o.ID, Name: "Acme Corporation"}
	tx(t, s, func(tx store.Tx) error { return tx.UpdateOrganization(ctx, &u) })
	got, err := s.GetOrganization(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrganization after update: %v", err)
	}
	want := o
	want.Name = "Acme Corporation"
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("after UpdateOrganization the name must change and createdAt must not (-want +got):\n%s", diff)
	}
	if !got.UpdatedAt.After(o.UpdatedAt) {
		t.Errorf("updatedAt is %v after an update made later than the creation at %v: want it to move forward", got.UpdatedAt, o.UpdatedAt)
	}
}

func orgMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	createOrg(t, s, "Someone else")
	missing := roster.NewID()
	_, err := s.GetOrganization(ctx, missing)
	wantErr(t, err, store.ErrNotFound, "GetOrganization of an id never created")
	_, err = s.GetOrganization(ctx, "not-an-id")
	wantErr(t, err, store.ErrNotFound, "GetOrganization of a malformed id")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.UpdateOrganization(ctx, &roster.Organization{ID: missing, Name: "Ghost"})
	})
	wantErr(t, err, store.ErrNotFound, "UpdateOrganization of an id never created")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteOrganization(ctx, missing) })
	wantErr(t, err, store.ErrNotFound, "DeleteOrganization of an id never created")
	if got := allOrgs(t, s, 10); len(got) != 1 {
		t.Errorf("after failed updates and deletes of a missing organization there are %d organizations, want the 1 created", len(got))
	}
}

func orgPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	var created []roster.Organization
	for i := range 5 {
		if i > 0 {
			// Creations a few milliseconds apart have distinct, increasing times in every
			// backend, so creation order is the one order every sensible cursor follows.
			time.Sleep(2 * time.Millisecond)
		}
		created = append(created, createOrg(t, s, fmt.Sprintf("Org %d", i)))
	}
	var got []roster.Organization
	var sizes []int
	p := store.Page{Limit: 2}
	for page := 0; ; page++ {
		if page == 5 {
			t.Fatalf("five organizations two at a time took more than 5 pages: the last page must return an empty cursor")
		}
		orgs, next, err := s.ListOrganizations(ctx, p)
		if err != nil {
			t.Fatalf("ListOrganizations(%+v): %v", p, err)
		}
		sizes = append(sizes, len(orgs))
		got = append(got, orgs...)
		if next == "" {
			break
		}
		p.After = next
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("page sizes for 5 organizations at limit 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("pages of 2 must give every organization exactly once, in creation order (-created +listed):\n%s", diff)
	}
}

func orgDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := now()
	a := createOrg(t, s, "Doomed")
	b := createOrg(t, s, "Survivor")
	ka := createKey(t, s, a.ID, nil)
	da, ta := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Okta", Enabled: true, IsDefault: true}, newToken(n.Add(year)))
	kb := createKey(t, s, b.ID, nil)
	db, tb := createDir(t, s, roster.Directory{OrgID: b.ID, Name: "Okta", Enabled: true, IsDefault: true}, newToken(n.Add(year)))

	tx(t, s, func(tx store.Tx) error { return tx.DeleteOrganization(ctx, a.ID) })

	_, err := s.GetOrganization(ctx, a.ID)
	wantErr(t, err, store.ErrNotFound, "GetOrganization after its deletion")
	_, err = s.GetOrgKey(ctx, a.ID, ka.ID)
	wantErr(t, err, store.ErrNotFound, "GetOrgKey of a deleted organization's key")
	_, err = s.LookupOrgKey(ctx, ka.PublicKey)
	wantErr(t, err, store.ErrNotFound, "LookupOrgKey of a deleted organization's key")
	_, err = s.GetDirectory(ctx, a.ID, da.ID)
	wantErr(t, err, store.ErrNotFound, "GetDirectory of a deleted organization's directory")
	_, err = s.DefaultDirectory(ctx, a.ID)
	wantErr(t, err, store.ErrNotFound, "DefaultDirectory of a deleted organization")
	lookupMisses(t, s, ta.Hash, n, "the token of a deleted organization's directory")
	if keys, err := s.ListOrgKeys(ctx, a.ID); err != nil || len(keys) != 0 {
		t.Errorf("ListOrgKeys of a deleted organization = %v, %v; want no keys", ids(keys, keyID), err)
	}
	if dirs, err := s.ListDirectories(ctx, a.ID); err != nil || len(dirs) != 0 {
		t.Errorf("ListDirectories of a deleted organization = %v, %v; want no directories", ids(dirs, dirID), err)
	}
	if got := ids(allOrgs(t, s, 10), orgID); !cmp.Equal(got, []string{b.ID}) {
		t.Errorf("ListOrganizations after deleting %s = %v; want only %s", a.ID, got, b.ID)
	}

	// The other organization keeps everything.
	if _, err := s.GetOrgKey(ctx, b.ID, kb.ID); err != nil {
		t.Errorf("GetOrgKey of the other organization's key: %v; deleting one organization must not touch another", err)
	}
	if _, err := s.GetDirectory(ctx, b.ID, db.ID); err != nil {
		t.Errorf("GetDirectory of the other organization's directory: %v; deleting one organization must not touch another", err)
	}
	lookupFinds(t, s, tb, n, "the other organization's token")
}

// --- Organization API keys ---

func orgKeyReadsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	exp := now().Add(90 * day)
	k := createKey(t, s, o.ID, &exp)
	k2 := createKey(t, s, o.ID, nil)

	got, err := s.GetOrgKey(ctx, o.ID, k.ID)
	if err != nil {
		t.Fatalf("GetOrgKey(%s, %s): %v; want the key just created", o.ID, k.ID, err)
	}
	if diff := cmp.Diff(k, *got); diff != "" {
		t.Errorf("GetOrgKey returned something else than was created (-created +got):\n%s", diff)
	}
	got, err = s.LookupOrgKey(ctx, k.PublicKey)
	if err != nil {
		t.Fatalf("LookupOrgKey(%s): %v; want the key just created", k.PublicKey, err)
	}
	if diff := cmp.Diff(k, *got); diff != "" {
		t.Errorf("LookupOrgKey returned something else than was created (-created +got):\n%s", diff)
	}
	_, err = s.LookupOrgKey(ctx, "pk-org-"+rand.Text())
	wantErr(t, err, store.ErrNotFound, "LookupOrgKey of a public key never issued")

	list, err := s.ListOrgKeys(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListOrgKeys: %v", err)
	}
	if diff := cmp.Diff([]roster.APIKey{k, k2}, list, cmpopts.SortSlices(func(a, b roster.APIKey) bool { return a.ID < b.ID })); diff != "" {
		t.Errorf("ListOrgKeys must hold both keys of the organization (-created +listed):\n%s", diff)
	}
}

func orgKeyDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	k := createKey(t, s, o.ID, nil)
	keep := createKey(t, s, o.ID, nil)
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOrgKey(ctx, o.ID, k.ID) })

	_, err := s.GetOrgKey(ctx, o.ID, k.ID)
	wantErr(t, err, store.ErrNotFound, "GetOrgKey of a deleted key")
	_, err = s.LookupOrgKey(ctx, k.PublicKey)
	wantErr(t, err, store.ErrNotFound, "LookupOrgKey of a deleted key")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteOrgKey(ctx, o.ID, k.ID) })
	wantErr(t, err, store.ErrNotFound, "DeleteOrgKey of a key already deleted")
	list, err := s.ListOrgKeys(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListOrgKeys: %v", err)
	}
	if got := ids(list, keyID); !cmp.Equal(got, []string{keep.ID}) {
		t.Errorf("ListOrgKeys after deleting %s = %v; want only the other key %s", k.ID, got, keep.ID)
	}
}

func missingOrgIsNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	missing := roster.NewID()
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateOrgKey(ctx, newKey(missing)) })
	wantErr(t, err, store.ErrNotFound, "CreateOrgKey for an organization that does not exist")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.CreateDirectory(ctx, &roster.Directory{OrgID: missing, Name: "Okta", DefaultRole: roster.RoleNone, Enabled: true}, newToken(now().Add(year)))
	})
	wantErr(t, err, store.ErrNotFound, "CreateDirectory for an organization that does not exist")

	o := createOrg(t, s, "Acme")
	tok := newToken(now().Add(year))
	tok.OrgID, tok.DirectoryID = o.ID, roster.NewID()
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.RotateDirectoryToken(ctx, tok, now()) })
	wantErr(t, err, store.ErrNotFound, "RotateDirectoryToken of a directory that does not exist")
	lookupMisses(t, s, tok.Hash, now(), "a token rotated onto a directory that does not exist")
}

// --- SCIM directories ---

func directoryReadsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	exp := now().Add(year)
	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", DefaultRole: roster.RoleMember, Enabled: true}, newToken(exp))

	got, err := s.GetDirectory(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatalf("GetDirectory(%s, %s): %v; want the directory just created", o.ID, d.ID, err)
	}
	want := d
	want.TokenPrefix, want.TokenExpiresAt, want.TokenLastUsed = tok.Prefix, &exp, nil
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("GetDirectory must return the directory with its token's prefix and expiry (-want +got):\n%s", diff)
	}
	list, err := s.ListDirectories(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListDirectories: %v", err)
	}
	if diff := cmp.Diff([]roster.Directory{want}, list); diff != "" {
		t.Errorf("ListDirectories must return the directory as GetDirectory does (-want +got):\n%s", diff)
	}
}

func directoryWithoutToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	d, _ := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Default", Enabled: true, IsDefault: true}, nil)
	got, err := s.DefaultDirectory(ctx, o.ID)
	if err != nil {
		t.Fatalf("DefaultDirectory: %v; want the directory just created as default", err)
	}
	want := d
	want.TokenPrefix, want.TokenExpiresAt, want.TokenLastUsed = "", nil, nil
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("a directory without a token must read back with empty token fields (-want +got):\n%s", diff)
	}
}

func directoryUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	exp := now().Add(year)
	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", DefaultRole: roster.RoleNone, Enabled: true}, newToken(exp))
	time.Sleep(2 * time.Millisecond)
	u := roster.Directory{ID: d.ID, OrgID: o.ID, Name: "Okta (staff)", DefaultRole: roster.RoleViewer, Enabled: false}
	tx(t, s, func(tx store.Tx) error { return tx.UpdateDirectory(ctx, &u) })

	got, err := s.GetDirectory(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatalf("GetDirectory after update: %v", err)
	}
	want := d
	want.Name, want.DefaultRole, want.Enabled = "Okta (staff)", roster.RoleViewer, false
	want.TokenPrefix, want.TokenExpiresAt = tok.Prefix, &exp
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("UpdateDirectory must change name, enabled and default role and nothing else (-want +got):\n%s", diff)
	}
	if !got.UpdatedAt.After(d.UpdatedAt) {
		t.Errorf("updatedAt is %v after an update made later than the creation at %v: want it to move forward", got.UpdatedAt, d.UpdatedAt)
	}
	lookupFinds(t, s, tok, now(), "updating a directory keeps its token")
}

func directoryOneDefault(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createOrg(t, s, "Acme")
	b := createOrg(t, s, "Globex")
	c := createOrg(t, s, "Initech")
	first, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Default", Enabled: true, IsDefault: true}, nil)

	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.CreateDirectory(ctx, &roster.Directory{OrgID: a.ID, Name: "Second default", DefaultRole: roster.RoleNone, Enabled: true, IsDefault: true}, nil)
	})
	wantErr(t, err, store.ErrConflict, "creating a second default directory in one organization")
	if got, err := s.DefaultDirectory(ctx, a.ID); err != nil || got.ID != first.ID {
		t.Errorf("DefaultDirectory after the refused second default = %v, %v; want the first, %s", got, err, first.ID)
	}

	other, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Not default", Enabled: true}, nil)
	list, err := s.ListDirectories(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListDirectories: %v", err)
	}
	if diff := cmp.Diff([]string{first.ID, other.ID}, ids(list, dirID), sortByID); diff != "" {
		t.Errorf("the organization must hold its default and one non-default directory, and not the refused one (-want +got):\n%s", diff)
	}

	bd, _ := createDir(t, s, roster.Directory{OrgID: b.ID, Name: "Default", Enabled: true, IsDefault: true}, nil)
	if got, err := s.DefaultDirectory(ctx, b.ID); err != nil || got.ID != bd.ID {
		t.Errorf("DefaultDirectory of a second organization = %v, %v; want its own default %s", got, err, bd.ID)
	}
	_, err = s.DefaultDirectory(ctx, c.ID)
	wantErr(t, err, store.ErrNotFound, "DefaultDirectory of an organization without one")

	tx(t, s, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, a.ID, first.ID) })
	next, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "New default", Enabled: true, IsDefault: true}, nil)
	if got, err := s.DefaultDirectory(ctx, a.ID); err != nil || got.ID != next.ID {
		t.Errorf("DefaultDirectory after replacing a deleted default = %v, %v; want the new one %s", got, err, next.ID)
	}
}

func directoryDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	keep, keepTok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Entra", Enabled: true}, newToken(now().Add(year)))
	tx(t, s, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, o.ID, d.ID) })

	_, err := s.GetDirectory(ctx, o.ID, d.ID)
	wantErr(t, err, store.ErrNotFound, "GetDirectory of a deleted directory")
	lookupMisses(t, s, tok.Hash, now(), "the token of a deleted directory")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, o.ID, d.ID) })
	wantErr(t, err, store.ErrNotFound, "DeleteDirectory of a directory already deleted")
	list, err := s.ListDirectories(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListDirectories: %v", err)
	}
	if got := ids(list, dirID); !cmp.Equal(got, []string{keep.ID}) {
		t.Errorf("ListDirectories after deleting %s = %v; want only %s", d.ID, got, keep.ID)
	}
	lookupFinds(t, s, keepTok, now(), "the other directory's token")
}

// --- Directory tokens ---

func tokenLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	exp := now().Add(year)
	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", DefaultRole: roster.RoleMember, Enabled: true, IsDefault: true}, newToken(exp))

	gotTok, gotDir, err := s.LookupDirectoryToken(ctx, tok.Hash, now())
	if err != nil {
		t.Fatalf("LookupDirectoryToken of a live token: %v; want it found", err)
	}
	wantTok := roster.DirectoryToken{ID: tok.ID, DirectoryID: d.ID, OrgID: o.ID, Prefix: tok.Prefix,
		CreatedAt: tok.CreatedAt, ExpiresAt: exp, Hash: tok.Hash}
	if diff := cmp.Diff(wantTok, *gotTok); diff != "" {
		t.Errorf("LookupDirectoryToken returned another token than was created (-want +got):\n%s", diff)
	}
	// The lookup's directory carries what authorisation needs; token display fields are
	// for listings and may be left empty.
	ignoreTokenFields := cmpopts.IgnoreFields(roster.Directory{}, "TokenPrefix", "TokenExpiresAt", "TokenLastUsed")
	if diff := cmp.Diff(d, *gotDir, ignoreTokenFields); diff != "" {
		t.Errorf("LookupDirectoryToken returned another directory than the token's (-want +got):\n%s", diff)
	}
	_, _, err = s.LookupDirectoryToken(ctx, sha("scim_never-issued"), now())
	wantErr(t, err, store.ErrNotFound, "LookupDirectoryToken of a hash never stored")
}

func tokenExpired(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	n := now()
	_, past := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Old", Enabled: true}, newToken(n.Add(-time.Minute)))
	lookupMisses(t, s, past.Hash, n, "a token created already expired")

	exp := n.Add(time.Hour)
	_, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(exp))
	lookupFinds(t, s, tok, exp.Add(-time.Microsecond), "a token one microsecond before its expiry is live")
	lookupMisses(t, s, tok.Hash, exp, "a token is expired at its expiry time")
	lookupMisses(t, s, tok.Hash, exp.Add(time.Hour), "a token an hour after its expiry")
}

func tokenRotateNow(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	d, old := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	newExp := now().Add(year)
	fresh := newToken(newExp)
	n := now()
	rotate(t, s, d, fresh, n)

	lookupMisses(t, s, old.Hash, n, "the old token right after a rotation without grace")
	lookupMisses(t, s, old.Hash, now(), "the old token after a rotation without grace")
	lookupFinds(t, s, fresh, now(), "the new token right after the rotation")
	got, err := s.GetDirectory(ctx, o.ID, d.ID)
	if err != nil {
		t.Fatalf("GetDirectory after rotation: %v", err)
	}
	if got.TokenPrefix != fresh.Prefix || got.TokenExpiresAt == nil || !got.TokenExpiresAt.Equal(newExp) {
		t.Errorf("GetDirectory after rotation shows token %q expiring %v; want the new token %q expiring %v",
			got.TokenPrefix, got.TokenExpiresAt, fresh.Prefix, newExp)
	}
}

func tokenRevokedAfterUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	// Each change follows a successful lookup of the same token, as on a busy directory: what
	// a backend may remember of that lookup must not outlive the change.
	d, old := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	lookupFinds(t, s, old, now(), "the token before its rotation")
	fresh := newToken(now().Add(year))
	rotate(t, s, d, fresh, now())
	lookupMisses(t, s, old.Hash, now(), "a token used just before a rotation without grace")

	lookupFinds(t, s, fresh, now(), "the new token before its directory is disabled")
	d.Enabled = false
	tx(t, s, func(tx store.Tx) error { return tx.UpdateDirectory(ctx, &d) })
	if _, dir, err := s.LookupDirectoryToken(ctx, fresh.Hash, now()); err != nil || dir.Enabled {
		t.Errorf("LookupDirectoryToken right after the directory was disabled: enabled %v, error %v; want the directory shown disabled",
			dir != nil && dir.Enabled, err)
	}
	d.Enabled, d.DefaultRole = true, roster.RoleViewer
	tx(t, s, func(tx store.Tx) error { return tx.UpdateDirectory(ctx, &d) })
	if _, dir, err := s.LookupDirectoryToken(ctx, fresh.Hash, now()); err != nil || dir.DefaultRole != roster.RoleViewer {
		t.Errorf("LookupDirectoryToken right after the default role changed: %+v, %v; want default role VIEWER", dir, err)
	}

	tx(t, s, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, o.ID, d.ID) })
	lookupMisses(t, s, fresh.Hash, now(), "a token used just before its directory was deleted")

	e, other := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Entra", Enabled: true}, newToken(now().Add(year)))
	lookupFinds(t, s, other, now(), "a token before its organization is deleted")
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOrganization(ctx, o.ID) })
	lookupMisses(t, s, other.Hash, now(), "a token used just before its organization was deleted")
	_ = e
}

func tokenRotateGrace(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	n := now()
	d, first := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(n.Add(year)))
	grace := n.Add(time.Hour)
	second := newToken(n.Add(year))
	rotate(t, s, d, second, grace)

	if got := lookupFinds(t, s, first, n, "the old token during the grace period"); got != nil && !got.ExpiresAt.Equal(grace) {
		t.Errorf("the old token expires at %v after a rotation with grace; want the end of the grace, %v", got.ExpiresAt, grace)
	}
	lookupFinds(t, s, first, grace.Add(-time.Microsecond), "the old token at the last moment of the grace period")
	lookupMisses(t, s, first.Hash, grace, "the old token once the grace period has ended")
	lookupFinds(t, s, second, n, "the new token during the grace period")
	lookupFinds(t, s, second, grace, "the new token after the grace period")

	// A second rotation without grace revokes every older token, the one still in its grace too.
	third := newToken(n.Add(year))
	revokeAt := now()
	rotate(t, s, d, third, revokeAt)
	lookupMisses(t, s, first.Hash, revokeAt, "the first token after a second rotation without grace")
	lookupMisses(t, s, second.Hash, revokeAt, "the second token after a second rotation without grace")
	lookupFinds(t, s, third, revokeAt, "the third token after the second rotation")
}

func tokenRotateKeepsEarlierExpiry(t *testing.T, s store.Store) {
	o := createOrg(t, s, "Acme")
	n := now()
	soon := n.Add(10 * time.Minute)
	d, old := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(soon))
	rotate(t, s, d, newToken(n.Add(year)), n.Add(time.Hour))

	if got := lookupFinds(t, s, old, n, "the old token still before its own expiry"); got != nil && !got.ExpiresAt.Equal(soon) {
		t.Errorf("the old token expires at %v after a rotation with a longer grace; want its own earlier expiry %v", got.ExpiresAt, soon)
	}
	lookupMisses(t, s, old.Hash, n.Add(30*time.Minute), "the old token after its own expiry, though inside the grace")
}

// --- Tenant isolation ---

// twoTenants makes organizations A and B, each with a key and a default directory with a token.
type tenant struct {
	org roster.Organization
	key roster.APIKey
	dir roster.Directory
	tok *roster.DirectoryToken
}

func twoTenants(t *testing.T, s store.Store) (a, b tenant) {
	t.Helper()
	for _, x := range []*tenant{&a, &b} {
		x.org = createOrg(t, s, "Tenant")
		x.key = createKey(t, s, x.org.ID, nil)
		x.dir, x.tok = createDir(t, s, roster.Directory{OrgID: x.org.ID, Name: "Okta", DefaultRole: roster.RoleMember, Enabled: true, IsDefault: true}, newToken(now().Add(year)))
	}
	return a, b
}

func isolationKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := twoTenants(t, s)
	got, err := s.GetOrgKey(ctx, b.org.ID, a.key.ID)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOrgKey(org B, key of A) = %+v, %v; want NotFound", got, err)
	}
	list, err := s.ListOrgKeys(ctx, b.org.ID)
	if err != nil {
		t.Fatalf("ListOrgKeys(org B): %v", err)
	}
	if got := ids(list, keyID); !cmp.Equal(got, []string{b.key.ID}) {
		t.Errorf("ListOrgKeys(org B) = %v; want only B's key %s (A's is %s)", got, b.key.ID, a.key.ID)
	}
}

func isolationDirectories(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := twoTenants(t, s)
	got, err := s.GetDirectory(ctx, b.org.ID, a.dir.ID)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDirectory(org B, directory of A) = %+v, %v; want NotFound", got, err)
	}
	list, err := s.ListDirectories(ctx, b.org.ID)
	if err != nil {
		t.Fatalf("ListDirectories(org B): %v", err)
	}
	if got := ids(list, dirID); !cmp.Equal(got, []string{b.dir.ID}) {
		t.Errorf("ListDirectories(org B) = %v; want only B's directory %s (A's is %s)", got, b.dir.ID, a.dir.ID)
	}
	if got, err := s.DefaultDirectory(ctx, b.org.ID); err != nil || got.ID != b.dir.ID {
		t.Errorf("DefaultDirectory(org B) = %+v, %v; want B's own %s", got, err, b.dir.ID)
	}
}

func isolationWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := twoTenants(t, s)
	keyBefore, err := s.GetOrgKey(ctx, a.org.ID, a.key.ID)
	if err != nil {
		t.Fatal(err)
	}
	dirBefore, err := s.GetDirectory(ctx, a.org.ID, a.dir.ID)
	if err != nil {
		t.Fatal(err)
	}
	hijack := newToken(now().Add(year))
	attempts := []struct {
		what string
		do   func(tx store.Tx) error
	}{
		{"DeleteOrgKey(org B, key of A)", func(tx store.Tx) error { return tx.DeleteOrgKey(ctx, b.org.ID, a.key.ID) }},
		{"DeleteDirectory(org B, directory of A)", func(tx store.Tx) error { return tx.DeleteDirectory(ctx, b.org.ID, a.dir.ID) }},
		{"UpdateDirectory(org B, directory of A)", func(tx store.Tx) error {
			return tx.UpdateDirectory(ctx, &roster.Directory{ID: a.dir.ID, OrgID: b.org.ID, Name: "Hijacked", DefaultRole: roster.RoleAdmin, Enabled: false})
		}},
		{"RotateDirectoryToken(org B, directory of A)", func(tx store.Tx) error {
			tok := *hijack
			tok.OrgID, tok.DirectoryID = b.org.ID, a.dir.ID
			return tx.RotateDirectoryToken(ctx, &tok, now())
		}},
	}
	for _, at := range attempts {
		err := s.Tx(ctx, roster.Actor{Type: roster.ActorOrgKey, ID: b.key.ID}, at.do)
		wantErr(t, err, store.ErrNotFound, "%s", at.what)
	}

	keyAfter, err := s.GetOrgKey(ctx, a.org.ID, a.key.ID)
	if err != nil {
		t.Fatalf("GetOrgKey(org A, its key) after B's attempts: %v; want A's key untouched", err)
	}
	if diff := cmp.Diff(keyBefore, keyAfter); diff != "" {
		t.Errorf("A's key changed after B's attempts (-before +after):\n%s", diff)
	}
	dirAfter, err := s.GetDirectory(ctx, a.org.ID, a.dir.ID)
	if err != nil {
		t.Fatalf("GetDirectory(org A, its directory) after B's attempts: %v; want A's directory untouched", err)
	}
	if diff := cmp.Diff(dirBefore, dirAfter); diff != "" {
		t.Errorf("A's directory changed after B's attempts (-before +after):\n%s", diff)
	}
	lookupFinds(t, s, a.tok, now(), "A's token after B tried to rotate it")
	lookupMisses(t, s, hijack.Hash, now(), "a token B tried to add to A's directory")
	if recs := allAudit(t, s, a.org.ID, store.AuditFilter{}); len(recs) != 3 {
		t.Errorf("org A has %d audit records after B's refused attempts; want the 3 of its own setup", len(recs))
	}
}

func isolationAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := twoTenants(t, s)
	// A little more history for A.
	tx(t, s, func(tx store.Tx) error {
		return tx.UpdateOrganization(ctx, &roster.Organization{ID: a.org.ID, Name: "Tenant A"})
	})
	rotate(t, s, a.dir, newToken(now().Add(year)), now())

	aIDs := map[string]bool{a.org.ID: true, a.key.ID: true, a.dir.ID: true}
	recs := allAudit(t, s, b.org.ID, store.AuditFilter{})
	if len(recs) != 3 {
		t.Errorf("org B has %d audit records; want the 3 of its own setup (organization, key, directory)", len(recs))
	}
	for _, r := range recs {
		if r.OrgID != b.org.ID || aIDs[r.Target.ID] {
			t.Errorf("ListAudit(org B) returned %s %s on %s of org %s; want only org B's records", r.Action, r.Target.Type, r.Target.ID, r.OrgID)
		}
	}
	for id := range aIDs {
		if recs := allAudit(t, s, b.org.ID, store.AuditFilter{TargetID: id}); len(recs) != 0 {
			t.Errorf("ListAudit(org B, target %s of A) returned %d records; want none", id, len(recs))
		}
	}
}

// --- Uniqueness under concurrency ---

// race runs fn(0) … fn(n-1) in n goroutines released together, and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// exactlyOneWins checks that one error is nil and every other one a Conflict.
func exactlyOneWins(t *testing.T, errs []error, what string) {
	t.Helper()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("%s, attempt %d: got error %v (kind %v); want success or Conflict", what, i, err, roster.KindOf(err))
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d concurrent attempts succeeded; want exactly 1", what, wins, len(errs))
	}
}

const racers = 16

func uniqueOrgKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	pk := "pk-org-" + rand.Text()
	errs := race(racers, func(i int) error {
		return s.Tx(ctx, testActor, func(tx store.Tx) error {
			k := newKey(o.ID)
			k.PublicKey = pk
			return tx.CreateOrgKey(ctx, k)
		})
	})
	exactlyOneWins(t, errs, "CreateOrgKey with one public key")

	list, err := s.ListOrgKeys(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListOrgKeys: %v", err)
	}
	if len(list) != 1 || list[0].PublicKey != pk {
		t.Errorf("after the race the organization holds keys %v; want exactly one, with public key %s", ids(list, keyID), pk)
	}
	if recs := allAudit(t, s, o.ID, store.AuditFilter{Action: "api_key.created"}); len(recs) != 1 {
		t.Errorf("after the race there are %d api_key.created audit records; want 1: the losers' records roll back with them", len(recs))
	}
}

func uniqueTokenHash(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	shared := newToken(now().Add(year))
	errs := race(racers, func(i int) error {
		return s.Tx(ctx, testActor, func(tx store.Tx) error {
			tok := *shared
			d := &roster.Directory{OrgID: o.ID, Name: fmt.Sprintf("Directory %d", i), DefaultRole: roster.RoleNone, Enabled: true}
			return tx.CreateDirectory(ctx, d, &tok)
		})
	})
	exactlyOneWins(t, errs, "CreateDirectory with one token hash")

	list, err := s.ListDirectories(ctx, o.ID)
	if err != nil {
		t.Fatalf("ListDirectories: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("after the race the organization holds %d directories; want 1: a directory whose token insert failed rolls back with it", len(list))
	}
	_, d, err := s.LookupDirectoryToken(ctx, shared.Hash, now())
	if err != nil || d.ID != list[0].ID {
		t.Errorf("LookupDirectoryToken of the raced hash = directory %v, %v; want the one surviving directory %s", d, err, list[0].ID)
	}
}

// --- Transactions and the audit log ---

func txRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	errBoom := errors.New("handler failed after the write")
	o := &roster.Organization{Name: "Never"}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx returned %v; want the error its function returned", err)
	}
	_, err = s.GetOrganization(ctx, o.ID)
	wantErr(t, err, store.ErrNotFound, "GetOrganization of an organization created in a rolled-back transaction")
	if recs := allAudit(t, s, o.ID, store.AuditFilter{}); len(recs) != 0 {
		t.Errorf("a rolled-back transaction left %d audit records; want none", len(recs))
	}
	if orgs := allOrgs(t, s, 10); len(orgs) != 0 {
		t.Errorf("a rolled-back transaction left organizations %v; want none", ids(orgs, orgID))
	}
}

func txRollbackOnStoreError(t *testing.T, s store.Store) {
	ctx := t.Context()
	owner := createOrg(t, s, "Owner")
	taken := createKey(t, s, owner.ID, nil)
	o := &roster.Organization{Name: "Never"}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		k := newKey(o.ID)
		k.PublicKey = taken.PublicKey
		return tx.CreateOrgKey(ctx, k)
	})
	wantErr(t, err, store.ErrConflict, "a transaction whose key reuses a public key")
	_, err = s.GetOrganization(ctx, o.ID)
	wantErr(t, err, store.ErrNotFound, "GetOrganization of an organization whose transaction failed later")
	if recs := allAudit(t, s, o.ID, store.AuditFilter{}); len(recs) != 0 {
		t.Errorf("a failed transaction left %d audit records; want none", len(recs))
	}
	if got, err := s.LookupOrgKey(ctx, taken.PublicKey); err != nil || got.OrgID != owner.ID {
		t.Errorf("LookupOrgKey of the contested public key = %+v, %v; want the original owner's key", got, err)
	}
}

func txAuditRecord(t *testing.T, s store.Store) {
	ctx := roster.WithRequestMeta(t.Context(), roster.RequestMeta{RequestID: "req-7f3a", IP: "203.0.113.9"})
	actor := roster.Actor{Type: roster.ActorAdminKey, ID: "admin-1"}
	start := time.Now()
	o := &roster.Organization{Name: "Acme"}
	if err := s.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
		t.Fatalf("Tx: %v", err)
	}
	end := time.Now()

	recs := allAudit(t, s, o.ID, store.AuditFilter{})
	if len(recs) != 1 {
		t.Fatalf("creating an organization left %d audit records; want exactly 1", len(recs))
	}
	r := recs[0]
	want := roster.AuditRecord{
		OrgID:     o.ID,
		Actor:     actor,
		Action:    "organization.created",
		Target:    roster.Target{Type: "organization", ID: o.ID},
		RequestID: "req-7f3a",
		IP:        "203.0.113.9",
	}
	if diff := cmp.Diff(want, r, cmpopts.IgnoreFields(roster.AuditRecord{}, "ID", "CreatedAt", "Before", "After")); diff != "" {
		t.Errorf("the audit record of an organization's creation (-want +got):\n%s", diff)
	}
	if r.ID == "" {
		t.Errorf("the audit record has no id")
	}
	if r.CreatedAt.Before(start.Add(-time.Second)) || r.CreatedAt.After(end.Add(time.Second)) {
		t.Errorf("the audit record was made at %v; want the time of the change, between %v and %v", r.CreatedAt, start, end)
	}
	if !isNull(r.Before) {
		t.Errorf("the audit record of a creation has before %s; want none", r.Before)
	}
	var after roster.Organization
	if err := json.Unmarshal(r.After, &after); err != nil {
		t.Fatalf("the audit record's after %q is not the organization as JSON: %v", r.After, err)
	}
	if diff := cmp.Diff(*o, after); diff != "" {
		t.Errorf("the audit record's after must be the organization as created (-created +after):\n%s", diff)
	}
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// writeEverything calls every write method once, each in its own transaction, checking after
// each that exactly one new audit record names the action and target. It returns every secret
// hash it stored.
func writeEverything(t *testing.T, s store.Store) (orgID string, hashes [][]byte) {
	t.Helper()
	ctx := t.Context()
	total := 0
	var o roster.Organization
	expect := func(action string, target roster.Target, wantBefore, wantAfter bool) {
		t.Helper()
		total++
		all := allAudit(t, s, o.ID, store.AuditFilter{})
		if len(all) != total {
			t.Errorf("after %s the organization has %d audit records; want %d, one per write", action, len(all), total)
		}
		recs := allAudit(t, s, o.ID, store.AuditFilter{Action: action, TargetID: target.ID})
		if len(recs) != 1 {
			t.Errorf("%s on %s left %d audit records with that action and target; want exactly 1", action, target.ID, len(recs))
			return
		}
		r := recs[0]
		if r.Target != target || r.Actor != testActor {
			t.Errorf("%s recorded target %+v by %+v; want target %+v by %+v", action, r.Target, r.Actor, target, testActor)
		}
		if isNull(r.Before) == wantBefore {
			t.Errorf("%s recorded before %q; want a snapshot: %v", action, r.Before, wantBefore)
		}
		if isNull(r.After) == wantAfter {
			t.Errorf("%s recorded after %q; want a snapshot: %v", action, r.After, wantAfter)
		}
	}

	o.Name = "Acme"
	tx(t, s, func(tx store.Tx) error { return tx.CreateOrganization(ctx, &o) })
	orgTarget := roster.Target{Type: "organization", ID: o.ID}
	expect("organization.created", orgTarget, false, true)

	o.Name = "Acme Corporation"
	tx(t, s, func(tx store.Tx) error { return tx.UpdateOrganization(ctx, &o) })
	expect("organization.updated", orgTarget, true, true)

	exp := now().Add(90 * day)
	k := createKey(t, s, o.ID, &exp)
	hashes = append(hashes, k.SecretHash)
	keyTarget := roster.Target{Type: "org_api_key", ID: k.ID}
	expect("api_key.created", keyTarget, false, true)

	tx(t, s, func(tx store.Tx) error { return tx.DeleteOrgKey(ctx, o.ID, k.ID) })
	expect("api_key.deleted", keyTarget, true, false)

	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true, IsDefault: true}, newToken(now().Add(year)))
	hashes = append(hashes, tok.Hash)
	dirTarget := roster.Target{Type: "directory", ID: d.ID}
	expect("directory.created", dirTarget, false, true)

	d.Name, d.Enabled, d.DefaultRole = "Okta (staff)", false, roster.RoleViewer
	tx(t, s, func(tx store.Tx) error { return tx.UpdateDirectory(ctx, &d) })
	expect("directory.updated", dirTarget, true, true)

	fresh := newToken(now().Add(year))
	hashes = append(hashes, fresh.Hash)
	rotate(t, s, d, fresh, now().Add(time.Hour))
	expect("directory.token_regenerated", dirTarget, true, true)

	tx(t, s, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, o.ID, d.ID) })
	expect("directory.deleted", dirTarget, true, false)

	// The audit log outlives what it describes: the deletion of an organization is itself
	// recorded and readable afterwards.
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOrganization(ctx, o.ID) })
	expect("organization.deleted", orgTarget, true, false)
	return o.ID, hashes
}

func auditEveryWrite(t *testing.T, s store.Store) {
	writeEverything(t, s)
}

func auditNoSecretHash(t *testing.T, s store.Store) {
	orgID, hashes := writeEverything(t, s)
	recs := allAudit(t, s, orgID, store.AuditFilter{})
	if len(recs) == 0 {
		t.Fatalf("no audit records to inspect")
	}
	for _, r := range recs {
		for _, snap := range []struct {
			name string
			raw  json.RawMessage
		}{{"before", r.Before}, {"after", r.After}} {
			if isNull(snap.raw) {
				continue
			}
			var v any
			if err := json.Unmarshal(snap.raw, &v); err != nil {
				t.Errorf("%s: %s snapshot %q is not JSON: %v", r.Action, snap.name, snap.raw, err)
				continue
			}
			if field := hashField(v); field != "" {
				t.Errorf("%s: %s snapshot has the field %q; secret hashes must never be recorded:\n%s", r.Action, snap.name, field, snap.raw)
			}
			for _, h := range hashes {
				for _, enc := range encodings(h) {
					if strings.Contains(string(snap.raw), enc) {
						t.Errorf("%s: %s snapshot contains a stored secret hash (%s); secret hashes must never be recorded:\n%s", r.Action, snap.name, enc, snap.raw)
					}
				}
			}
		}
	}
}

// hashField returns the first object key, at any depth, that names a hash.
func hashField(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.Contains(strings.ToLower(k), "hash") {
				return k
			}
			if f := hashField(x); f != "" {
				return f
			}
		}
	case []any:
		for _, x := range v {
			if f := hashField(x); f != "" {
				return f
			}
		}
	}
	return ""
}

// encodings lists the ways a hash could be spelled inside JSON.
func encodings(h []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(h),
		base64.RawStdEncoding.EncodeToString(h),
		base64.URLEncoding.EncodeToString(h),
		base64.RawURLEncoding.EncodeToString(h),
		hex.EncodeToString(h),
		strings.ToUpper(hex.EncodeToString(h)),
	}
}

func auditPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	for range 4 {
		createKey(t, s, o.ID, nil)
	}
	var got []string
	f := store.AuditFilter{Page: store.Page{Limit: 2}}
	for page := 0; ; page++ {
		if page == 5 {
			t.Fatalf("five audit records two at a time took more than 5 pages: the last page must return an empty cursor")
		}
		recs, next, err := s.ListAudit(ctx, o.ID, f)
		if err != nil {
			t.Fatalf("ListAudit(%+v): %v", f, err)
		}
		got = append(got, ids(recs, func(r roster.AuditRecord) string { return r.ID })...)
		if next == "" {
			break
		}
		f.After = next
	}
	all := allAudit(t, s, o.ID, store.AuditFilter{})
	if len(all) != 5 {
		t.Fatalf("an organization with 4 keys has %d audit records; want 5", len(all))
	}
	want := ids(all, func(r roster.AuditRecord) string { return r.ID })
	slices.Sort(want)
	slices.Reverse(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages of 2 must give every audit record exactly once, highest id first (-want +got):\n%s", diff)
	}
}

// --- Credential bookkeeping ---

func touchLastUsed(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := createOrg(t, s, "Acme")
	k := createKey(t, s, o.ID, nil)
	d, tok := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	t1 := now()
	t0, t2 := t1.Add(-time.Hour), t1.Add(time.Minute)

	check := func(want time.Time, why string) {
		t.Helper()
		key, err := s.GetOrgKey(ctx, o.ID, k.ID)
		if err != nil {
			t.Fatalf("GetOrgKey: %v", err)
		}
		if key.LastUsedAt == nil || !key.LastUsedAt.Equal(want) {
			t.Errorf("key lastUsedAt = %v %s; want %v", key.LastUsedAt, why, want)
		}
		got, _, err := s.LookupDirectoryToken(ctx, tok.Hash, now())
		if err != nil {
			t.Fatalf("LookupDirectoryToken: %v", err)
		}
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
			t.Errorf("token lastUsedAt = %v %s; want %v", got.LastUsedAt, why, want)
		}
		dir, err := s.GetDirectory(ctx, o.ID, d.ID)
		if err != nil {
			t.Fatalf("GetDirectory: %v", err)
		}
		if dir.TokenLastUsed == nil || !dir.TokenLastUsed.Equal(want) {
			t.Errorf("directory tokenLastUsedAt = %v %s; want %v", dir.TokenLastUsed, why, want)
		}
	}

	if err := s.TouchLastUsed(ctx, nil); err != nil {
		t.Errorf("TouchLastUsed of an empty batch: %v; want nothing done", err)
	}
	if err := s.TouchLastUsed(ctx, []store.Use{
		{Kind: store.OrgKeyCredential, ID: k.ID, At: t1},
		{Kind: store.DirectoryTokenCredential, ID: tok.ID, At: t1},
	}); err != nil {
		t.Fatalf("TouchLastUsed: %v", err)
	}
	check(t1, "after the first use")

	if err := s.TouchLastUsed(ctx, []store.Use{
		{Kind: store.OrgKeyCredential, ID: k.ID, At: t0},
		{Kind: store.DirectoryTokenCredential, ID: tok.ID, At: t0},
	}); err != nil {
		t.Fatalf("TouchLastUsed: %v", err)
	}
	check(t1, "after an older use arrived late (another replica's flush)")

	// One batch holding a newer use, then an older one, and a credential deleted since.
	if err := s.TouchLastUsed(ctx, []store.Use{
		{Kind: store.OrgKeyCredential, ID: k.ID, At: t2},
		{Kind: store.DirectoryTokenCredential, ID: tok.ID, At: t2},
		{Kind: store.OrgKeyCredential, ID: k.ID, At: t1},
		{Kind: store.DirectoryTokenCredential, ID: tok.ID, At: t0},
		{Kind: store.OrgKeyCredential, ID: roster.NewID(), At: t2},
	}); err != nil {
		t.Fatalf("TouchLastUsed of a batch with a credential deleted since its use: %v; want the batch recorded", err)
	}
	check(t2, "after a batch whose newest use is later")
}

func expiringWindow(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := now()
	end := n.Add(30 * day)
	at := func(d time.Duration) *time.Time { x := n.Add(d); return &x }
	a := createOrg(t, s, "Acme")
	b := createOrg(t, s, "Globex")

	keyIn := createKey(t, s, a.ID, at(5*day))
	createKey(t, s, b.ID, at(60*day)) // outside the window
	createKey(t, s, a.ID, nil)        // never expires
	createKey(t, s, b.ID, at(-day))   // already expired
	createKey(t, s, a.ID, at(30*day)) // expires exactly at the window's end: not before it
	dirIn, tokIn := createDir(t, s, roster.Directory{OrgID: b.ID, Name: "Okta", Enabled: true}, newToken(n.Add(10*day)))
	createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Entra", Enabled: true}, newToken(n.Add(year)))
	createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Stale", Enabled: true}, newToken(n.Add(-day)))

	got, err := s.ExpiringCredentials(ctx, n, end)
	if err != nil {
		t.Fatalf("ExpiringCredentials: %v", err)
	}
	want := []store.Expiring{
		{Kind: store.OrgKeyCredential, ID: keyIn.ID, OrgID: a.ID, ExpiresAt: n.Add(5 * day)},
		{Kind: store.DirectoryTokenCredential, ID: tokIn.ID, OrgID: b.ID, DirectoryID: dirIn.ID, ExpiresAt: n.Add(10 * day)},
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(x, y store.Expiring) bool { return x.ID < y.ID })); diff != "" {
		t.Errorf("ExpiringCredentials(now, now+30d) must list exactly the key and the token expiring inside the window (-want +got):\n%s", diff)
	}
}

func expiringAfterRotation(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := now()
	end := n.Add(30 * day)
	o := createOrg(t, s, "Acme")
	d, _ := createDir(t, s, roster.Directory{OrgID: o.ID, Name: "Okta", Enabled: true}, newToken(n.Add(20*day)))

	// Rotated to a token good for a year; the old one lives one more day.
	rotate(t, s, d, newToken(n.Add(year)), n.Add(day))
	got, err := s.ExpiringCredentials(ctx, n, end)
	if err != nil {
		t.Fatalf("ExpiringCredentials: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("after rotating to a token good for a year ExpiringCredentials lists %+v; want nothing: the old token in its grace is superseded", got)
	}

	// Rotated again, to a token that itself expires inside the window.
	newest := newToken(n.Add(25 * day))
	rotate(t, s, d, newest, n.Add(2*day))
	got, err = s.ExpiringCredentials(ctx, n, end)
	if err != nil {
		t.Fatalf("ExpiringCredentials: %v", err)
	}
	want := []store.Expiring{{Kind: store.DirectoryTokenCredential, ID: newest.ID, OrgID: o.ID, DirectoryID: d.ID, ExpiresAt: n.Add(25 * day)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ExpiringCredentials must list only the directory's newest token (-want +got):\n%s", diff)
	}
}

// --- Concurrent writers ---

func concurrentWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, each = 8, 25
	created := make([][]string, writers)
	errs := race(writers, func(w int) error {
		for i := range each {
			o := &roster.Organization{Name: fmt.Sprintf("Writer %d org %d", w, i)}
			if err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
				return fmt.Errorf("organization %d: %w", i, err)
			}
			created[w] = append(created[w], o.ID)
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v; every concurrent write must commit (no \"database is locked\")", w, err)
		}
	}
	want := slices.Concat(created...)
	got := ids(allOrgs(t, s, 50), orgID)
	if len(got) != writers*each {
		t.Errorf("after %d writers created %d organizations each the list has %d; want %d", writers, each, len(got), writers*each)
	}
	if diff := cmp.Diff(want, got, sortByID); diff != "" {
		t.Errorf("the listed organizations must be exactly the ones created (-created +listed):\n%s", diff)
	}
}

// --- SCIM provisioning ---

func newSCIMPerson(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := createOrg(t, s, "Acme"), createOrg(t, s, "Beta")
	da, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	db, _ := createDir(t, s, roster.Directory{OrgID: b.ID, Name: "Okta", Enabled: true}, newToken(now().Add(year)))
	add := func(d roster.Directory, userName, externalID, email string, active bool) {
		tx(t, s, func(tx store.Tx) error {
			m := &roster.Member{OrgID: d.OrgID, Email: email, Name: userName, Role: roster.RoleMember}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
			return tx.CreateSCIMUser(ctx, &roster.SCIMUser{OrgID: d.OrgID, DirectoryID: d.ID, MemberID: m.ID, UserName: userName,
				ExternalID: externalID, Active: active, Email: email, Resource: []byte(`{}`)})
		})
	}
	add(da, "Ada@Example.com", "00u1", "ada@example.com", true)
	add(da, "gone@example.com", "00u2", "gone@example.com", false)
	for _, c := range []struct {
		name                        string
		dir                         roster.Directory
		userName, externalID, email string
		want                        bool
	}{
		{"a new person", da, "new@example.com", "00u9", "new@example.com", true},
		{"a userName taken, in another case", da, "ADA@example.com", "", "other@example.com", false},
		{"the externalId of a deactivated user", da, "renamed@example.com", "00u2", "renamed@example.com", false},
		{"the externalId of an active user (externalId is not unique)", da, "dup@example.com", "00u1", "dup@example.com", true},
		{"the email of a live member", da, "alias@example.com", "", "ADA@example.com", false},
		{"org B with org A's userName, externalId and email", db, "Ada@Example.com", "00u2", "ada@example.com", true},
	} {
		got, err := s.IsNewSCIMPerson(ctx, c.dir.OrgID, c.dir.ID, c.userName, c.externalID, c.email)
		if err != nil || got != c.want {
			t.Errorf("IsNewSCIMPerson for %s = %v, %v; want %v", c.name, got, err, c.want)
		}
		// RequireNewSCIMPerson fails the transaction on the same cases, with a conflict,
		// and lets the transaction's other writes commit otherwise.
		key := newKey(c.dir.OrgID)
		err = s.Tx(ctx, testActor, func(tx store.Tx) error {
			if err := tx.RequireNewSCIMPerson(ctx, c.dir.OrgID, c.dir.ID, c.userName, c.externalID, c.email); err != nil {
				return err
			}
			return tx.CreateOrgKey(ctx, key)
		})
		_, keyErr := s.GetOrgKey(ctx, c.dir.OrgID, key.ID)
		switch {
		case c.want && (err != nil || keyErr != nil):
			t.Errorf("RequireNewSCIMPerson for %s: Tx = %v, the key written beside it: %v; want both fine", c.name, err, keyErr)
		case !c.want && !errors.Is(err, store.ErrConflict):
			t.Errorf("RequireNewSCIMPerson for %s: Tx = %v; want a conflict", c.name, err)
		case !c.want && keyErr == nil:
			t.Errorf("RequireNewSCIMPerson for %s refused, but the key written beside it committed", c.name)
		}
	}
}

func requestLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := createOrg(t, s, "Acme"), createOrg(t, s, "Beta")
	da, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Okta", Enabled: true}, nil)
	db, _ := createDir(t, s, roster.Directory{OrgID: b.ID, Name: "Okta", Enabled: true}, nil)
	gone, _ := createDir(t, s, roster.Directory{OrgID: a.ID, Name: "Gone", Enabled: true}, nil)
	tx(t, s, func(tx store.Tx) error { return tx.DeleteDirectory(ctx, a.ID, gone.ID) })
	start := now().Add(-time.Hour).Truncate(time.Microsecond)
	entry := func(d roster.Directory, i int) roster.SCIMRequest {
		return roster.SCIMRequest{OrgID: d.OrgID, DirectoryID: d.ID, At: start.Add(time.Duration(i) * time.Millisecond), Method: "POST",
			Path: fmt.Sprintf("/scim/v2/Users?n=%d", i), Status: 409, ScimType: "uniqueness", Detail: "taken",
			Latency: time.Duration(i) * time.Microsecond, RequestID: fmt.Sprintf("req-%d", i)}
	}
	// More than a directory keeps, in two batches, with another tenant's entries and those
	// of a deleted directory mixed in.
	const total = 1100
	var batch []roster.SCIMRequest
	for i := range total {
		batch = append(batch, entry(da, i))
		if i%10 == 0 {
			batch = append(batch, entry(db, i), entry(gone, i))
		}
		if i == total/2 {
			if err := s.AppendSCIMRequests(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	if err := s.AppendSCIMRequests(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListSCIMRequests(ctx, a.ID, da.ID, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 {
		t.Fatalf("the log kept %d entries of %d; want the newest 1000", len(got), total)
	}
	if want := entry(da, total-1); !cmp.Equal(got[0], want) {
		t.Errorf("the newest entry is %+v; want %+v", got[0], want)
	}
	if got[999].RequestID != fmt.Sprintf("req-%d", total-1000) {
		t.Errorf("the oldest kept entry is %s; want req-%d", got[999].RequestID, total-1000)
	}
	if other, err := s.ListSCIMRequests(ctx, a.ID, db.ID, 5000); err != nil || len(other) != 0 {
		t.Errorf("org A reading org B's directory log got %d entries, %v; want none", len(other), err)
	}
	if own, err := s.ListSCIMRequests(ctx, b.ID, db.ID, 5000); err != nil || len(own) != total/10 {
		t.Errorf("org B's own log has %d entries, %v; want %d", len(own), err, total/10)
	}
	if g, err := s.ListSCIMRequests(ctx, a.ID, gone.ID, 5000); err != nil || len(g) != 0 {
		t.Errorf("a deleted directory's log has %d entries, %v; want none", len(g), err)
	}
}
