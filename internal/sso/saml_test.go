package sso_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso/ssotest"
	"github.com/rosterhq/roster/internal/store"
)

// login is one SP-initiated login in flight, as the IdP sees it.
type login struct {
	e     *env
	idp   *ssotest.SAMLIdP
	ar    *ssotest.AuthnRequest
	relay string
}

// valid is the assertion an honest IdP sends for ada@acme.test in answer to l.
func (l login) valid() ssotest.Assertion {
	acs := l.e.base + "/saml/callback"
	return ssotest.Assertion{InResponseTo: l.ar.ID, Destination: acs, Recipient: acs, Audience: l.e.base + "/saml/metadata/" + l.e.orgID,
		Email: "ada@acme.test", FirstName: "Ada", LastName: "Lovelace"}
}

// signedAssertion builds a with its assertion signed.
func (l login) signedAssertion(t testing.TB, a ssotest.Assertion) *etree.Document {
	doc := l.idp.Build(a)
	l.idp.Sign(t, doc.Root().FindElement("./Assertion"))
	return doc
}

func TestSAMLLogin(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			idp := ssotest.NewSAMLIdP(t)
			conn := e.samlConnection(t, idp, `"attributeMapping":{"preset":"okta"}`)

			t.Run("a response with a signed assertion signs the member in and GET /session names them", func(t *testing.T) {
				c := browser(t)
				ar, relay := e.startSAML(t, c, conn)
				if ar.ACS != e.base+"/saml/callback" || ar.Issuer != e.base+"/saml/metadata/"+e.orgID {
					t.Errorf("AuthnRequest ACS %q issuer %q; want our ACS and SP entity id", ar.ACS, ar.Issuer)
				}
				l := login{e, idp, ar, relay}
				resp := e.post(t, c, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, l.valid())), relay)
				if resp.StatusCode != 303 || resp.Header.Get("Location") != "/session" {
					t.Fatalf("callback answered %d to %q; want 303 to /session", resp.StatusCode, resp.Header.Get("Location"))
				}
				code, who := e.whoami(t, c)
				if code != 200 || who["email"] != "ada@acme.test" || who["orgId"] != e.orgID || who["id"] != e.memberID || who["role"] != "MEMBER" {
					t.Errorf("GET /session = %d %v; want ada's member", code, who)
				}
			})

			t.Run("a signed response (assertion unsigned inside it) signs the member in", func(t *testing.T) {
				c := browser(t)
				ar, relay := e.startSAML(t, c, conn)
				l := login{e, idp, ar, relay}
				doc := idp.Build(l.valid())
				idp.Sign(t, doc.Root())
				if resp := e.post(t, c, "/saml/callback", ssotest.Encode(t, doc), relay); resp.StatusCode != 303 {
					t.Fatalf("callback answered %d; want 303", resp.StatusCode)
				}
				if code, _ := e.whoami(t, c); code != 200 {
					t.Errorf("GET /session = %d; want 200", code)
				}
			})

			t.Run("the login state is found by InResponseTo when the IdP drops RelayState", func(t *testing.T) {
				c := browser(t)
				ar, relay := e.startSAML(t, c, conn)
				l := login{e, idp, ar, relay}
				if resp := e.post(t, c, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, l.valid())), ""); resp.StatusCode != 303 {
					t.Fatalf("callback answered %d; want 303", resp.StatusCode)
				}
			})

			t.Run("a NotBefore a little ahead of our clock is within the skew", func(t *testing.T) {
				c := browser(t)
				ar, relay := e.startSAML(t, c, conn)
				l := login{e, idp, ar, relay}
				a := l.valid()
				a.NotBefore = time.Now().Add(time.Minute)
				if resp := e.post(t, c, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, a)), relay); resp.StatusCode != 303 {
					t.Fatalf("callback answered %d; want 303", resp.StatusCode)
				}
			})
		})
	}
}

// TestSAMLAttacks: every forged, stale or misdirected response is refused, no session is
// started, and the refusal is in the audit log with its reason.
func TestSAMLAttacks(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		// forge returns the encoded response and the RelayState to post for login l.
		forge func(t *testing.T, l login) (string, string)
	}{
		{"an unsigned response is refused", "signature_missing", func(t *testing.T, l login) (string, string) {
			return ssotest.Encode(t, l.idp.Build(l.valid())), l.relay
		}},
		{"an assertion signed by a key the connection does not trust is refused", "signature_invalid", func(t *testing.T, l login) (string, string) {
			doc := l.idp.Build(l.valid())
			ssotest.SignWithStrangerKey(t, doc.Root().FindElement("./Assertion"))
			return ssotest.Encode(t, doc), l.relay
		}},
		{"an assertion changed after it was signed is refused", "signature_invalid", func(t *testing.T, l login) (string, string) {
			doc := l.signedAssertion(t, l.valid())
			doc.Root().FindElement("./Assertion/Subject/NameID").SetText("boss@acme.test")
			for _, v := range doc.Root().FindElements("./Assertion/AttributeStatement/Attribute/AttributeValue") {
				v.SetText("boss@acme.test")
			}
			return ssotest.Encode(t, doc), l.relay
		}},
		{"XSW: the signed assertion moved into Extensions and a forged one put in its place is refused", "signature_invalid", func(t *testing.T, l login) (string, string) {
			doc := l.signedAssertion(t, l.valid())
			root := doc.Root()
			signed := root.FindElement("./Assertion")
			root.RemoveChild(signed)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(signed)
			root.InsertChildAt(2, ext)
			forged := l.idp.Build(forgedFor(l)).Root().FindElement("./Assertion")
			forged.CreateAttr("ID", signed.SelectAttrValue("ID", ""))
			root.AddChild(forged)
			return ssotest.Encode(t, doc), l.relay
		}},
		{"XSW: a forged unsigned assertion beside the signed one is refused", "signature_missing", func(t *testing.T, l login) (string, string) {
			doc := l.signedAssertion(t, l.valid())
			forged := l.idp.Build(forgedFor(l)).Root().FindElement("./Assertion")
			doc.Root().InsertChildAt(childPos(doc.Root(), "Assertion"), forged)
			return ssotest.Encode(t, doc), l.relay
		}},
		{"XSW: a forged assertion wrapping the signed one is refused", "signature_invalid", func(t *testing.T, l login) (string, string) {
			doc := l.signedAssertion(t, l.valid())
			root := doc.Root()
			signed := root.FindElement("./Assertion")
			root.RemoveChild(signed)
			forged := l.idp.Build(forgedFor(l)).Root().FindElement("./Assertion")
			forged.CreateAttr("ID", signed.SelectAttrValue("ID", ""))
			// The signature, copied into the forgery, still points at the original's ID.
			forged.InsertChildAt(1, signed.FindElement("./Signature").Copy())
			forged.FindElement("./Subject").AddChild(signed)
			root.AddChild(forged)
			return ssotest.Encode(t, doc), l.relay
		}},
		{"XSW: a signed response wrapped in a forged response with the same ID is refused", "signature_invalid", func(t *testing.T, l login) (string, string) {
			orig := l.idp.Build(l.valid())
			l.idp.Sign(t, orig.Root())
			evil := l.idp.Build(forgedFor(l))
			er := evil.Root()
			er.CreateAttr("ID", orig.Root().SelectAttrValue("ID", ""))
			er.InsertChildAt(1, orig.Root().FindElement("./Signature").Copy())
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(orig.Root().Copy())
			er.InsertChildAt(2, ext)
			return ssotest.Encode(t, evil), l.relay
		}},
		{"XSW: a signed response carrying a second, forged assertion is refused", "assertion_count", func(t *testing.T, l login) (string, string) {
			// An IdP that signs whatever it is given would still not get two identities past us.
			doc := l.idp.Build(l.valid())
			doc.Root().AddChild(l.idp.Build(forgedFor(l)).Root().FindElement("./Assertion"))
			l.idp.Sign(t, doc.Root())
			return ssotest.Encode(t, doc), l.relay
		}},
		{"an expired assertion is refused", "expired", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.NotBefore, a.NotOnOrAfter = time.Now().Add(-time.Hour), time.Now().Add(-10*time.Minute)
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"an assertion whose conditions ended beyond the skew is refused though its confirmation is live", "expired", func(t *testing.T, l login) (string, string) {
			doc := l.signedAssertionWith(t, func(d *etree.Document) {
				d.Root().FindElement("./Assertion/Conditions").CreateAttr("NotOnOrAfter", time.Now().Add(-5*time.Minute).UTC().Format(time.RFC3339))
			})
			return ssotest.Encode(t, doc), l.relay
		}},
		{"an assertion not yet valid is refused", "not_yet_valid", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.NotBefore = time.Now().Add(10 * time.Minute)
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"an assertion for another audience is refused", "wrong_audience", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.Audience = "https://other-sp.example/metadata"
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"an assertion without an AudienceRestriction is refused", "audience_missing", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.NoAudience = true
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"an assertion for another recipient is refused", "wrong_recipient", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.Recipient = "https://other-sp.example/acs"
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"a response for another destination is refused", "wrong_destination", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.Destination = "https://other-sp.example/acs"
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"a response from another issuer, even signed with the trusted key, is refused", "wrong_issuer", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.Issuer = "https://other-idp.example"
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"a response answering another AuthnRequest is refused", "in_response_to_mismatch", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.InResponseTo = "_someone-elses-request"
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
		{"an unsolicited response posted to the SP-initiated ACS is refused", "in_response_to_mismatch", func(t *testing.T, l login) (string, string) {
			a := l.valid()
			a.InResponseTo = ""
			return ssotest.Encode(t, l.signedAssertion(t, a)), l.relay
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			e.addMember(t, "boss@acme.test")
			idp := ssotest.NewSAMLIdP(t)
			conn := e.samlConnection(t, idp, "")
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					br := browser(t)
					ar, relay := e.startSAML(t, br, conn)
					encoded, postRelay := c.forge(t, login{e, idp, ar, relay})
					before := len(e.refusals(t))
					resp := e.post(t, br, "/saml/callback", encoded, postRelay)
					if resp.StatusCode < 400 {
						t.Fatalf("callback answered %d; want a refusal", resp.StatusCode)
					}
					if code, who := e.whoami(t, br); code != 401 {
						t.Errorf("GET /session after a refused login = %d %v; want 401", code, who)
					}
					got := e.refusals(t)
					// Audit records list newest first.
					if len(got) != before+1 || got[0] != c.reason {
						t.Errorf("audit reasons %v; want one more, the newest %q", got, c.reason)
					}
				})
			}
		})
	}
}

// signedAssertionWith builds the valid assertion, lets change edit it, then signs it.
func (l login) signedAssertionWith(t *testing.T, change func(*etree.Document)) *etree.Document {
	doc := l.idp.Build(l.valid())
	change(doc)
	l.idp.Sign(t, doc.Root().FindElement("./Assertion"))
	return doc
}

// forgedFor is the attacker's assertion: the boss's identity, otherwise well-formed.
func forgedFor(l login) ssotest.Assertion {
	a := l.valid()
	a.Email = "boss@acme.test"
	return a
}

func childPos(el *etree.Element, tag string) int {
	for i, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == tag {
			return i
		}
	}
	return len(el.Child)
}

func TestSAMLCommentInjectionDoesNotTruncateTheEmail(t *testing.T) {
	// An attacker who owns ada@acme.test.evil.example at the IdP inserts a comment into the
	// signed value: canonicalisation ignores comments, so the signature still verifies, and
	// a parser that read only the first text node would see ada@acme.test.
	e := newEnv(t, backends[0].open(t))
	idp := ssotest.NewSAMLIdP(t)
	conn := e.samlConnection(t, idp, "")
	br := browser(t)
	ar, relay := e.startSAML(t, br, conn)
	l := login{e, idp, ar, relay}
	a := l.valid()
	a.Email = "ada@acme.test.evil.example"
	doc := l.signedAssertion(t, a)
	for _, el := range append(doc.Root().FindElements("./Assertion/AttributeStatement/Attribute/AttributeValue"),
		doc.Root().FindElement("./Assertion/Subject/NameID")) {
		el.SetText("")
		el.AddChild(etree.NewText("ada@acme.test"))
		el.AddChild(etree.NewComment("x"))
		el.AddChild(etree.NewText(".evil.example"))
	}
	resp := e.post(t, br, "/saml/callback", ssotest.Encode(t, doc), relay)
	code, who := e.whoami(t, br)
	if code == 200 && who["email"] == "ada@acme.test" {
		t.Fatalf("the comment truncated the signed email: signed in as %v (callback %d)", who, resp.StatusCode)
	}
	if resp.StatusCode < 400 {
		t.Errorf("callback answered %d; want a refusal (no member ada@acme.test.evil.example)", resp.StatusCode)
	}
}

func TestSAMLReplayAndLoginState(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			idp := ssotest.NewSAMLIdP(t)
			conn := e.samlConnection(t, idp, `"idpInitiated":true`)
			acs := e.base + "/saml/callback/" + conn
			unsolicited := func(t *testing.T) string {
				doc := idp.Build(ssotest.Assertion{Destination: acs, Recipient: acs, Audience: e.base + "/saml/metadata/" + e.orgID, Email: "ada@acme.test"})
				idp.Sign(t, doc.Root().FindElement("./Assertion"))
				return ssotest.Encode(t, doc)
			}

			t.Run("an IdP-initiated response is accepted at its connection's ACS when the connection allows it", func(t *testing.T) {
				br := browser(t)
				if resp := e.post(t, br, "/saml/callback/"+conn, unsolicited(t), "/session"); resp.StatusCode != 303 {
					t.Fatalf("answered %d; want 303", resp.StatusCode)
				}
				if code, _ := e.whoami(t, br); code != 200 {
					t.Errorf("GET /session = %d", code)
				}
			})
			t.Run("a replayed assertion is refused, on any replica, as replayed", func(t *testing.T) {
				enc := unsolicited(t)
				if resp := e.post(t, browser(t), "/saml/callback/"+conn, enc, ""); resp.StatusCode != 303 {
					t.Fatalf("first use answered %d; want 303", resp.StatusCode)
				}
				br := browser(t)
				if resp := e.post(t, br, "/saml/callback/"+conn, enc, ""); resp.StatusCode != 401 {
					t.Errorf("replay answered %d; want 401", resp.StatusCode)
				}
				if code, _ := e.whoami(t, br); code != 401 {
					t.Errorf("the replaying browser got a session")
				}
				if r := e.refusals(t); len(r) == 0 || r[0] != "replayed" {
					t.Errorf("newest refusal reasons %v; want replayed", r)
				}
			})
			t.Run("an SP-initiated response posted twice is refused the second time: its login state is used", func(t *testing.T) {
				br := browser(t)
				ar, relay := e.startSAML(t, br, conn)
				l := login{e, idp, ar, relay}
				enc := ssotest.Encode(t, l.signedAssertion(t, l.valid()))
				if resp := e.post(t, br, "/saml/callback", enc, relay); resp.StatusCode != 303 {
					t.Fatalf("first post answered %d", resp.StatusCode)
				}
				if resp := e.post(t, browser(t), "/saml/callback", enc, relay); resp.StatusCode != 400 {
					t.Errorf("second post answered %d; want 400", resp.StatusCode)
				}
			})
			t.Run("a response with an unknown RelayState is refused", func(t *testing.T) {
				if resp := e.post(t, browser(t), "/saml/callback", unsolicited(t), "rs_forged"); resp.StatusCode != 400 {
					t.Errorf("answered %d; want 400", resp.StatusCode)
				}
			})
			t.Run("a body above the callback limit is refused with 413", func(t *testing.T) {
				resp := e.post(t, browser(t), "/saml/callback", strings.Repeat("A", 600<<10), "")
				if resp.StatusCode != 413 {
					t.Errorf("answered %d; want 413", resp.StatusCode)
				}
			})
		})
	}
}

func TestSAMLIdPInitiatedOnlyWhenAllowed(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	idp := ssotest.NewSAMLIdP(t)
	conn := e.samlConnection(t, idp, "")
	acs := e.base + "/saml/callback/" + conn
	doc := idp.Build(ssotest.Assertion{Destination: acs, Recipient: acs, Audience: e.base + "/saml/metadata/" + e.orgID, Email: "ada@acme.test"})
	idp.Sign(t, doc.Root().FindElement("./Assertion"))
	br := browser(t)
	if resp := e.post(t, br, "/saml/callback/"+conn, ssotest.Encode(t, doc), ""); resp.StatusCode != 403 {
		t.Errorf("an unsolicited response to a connection without idpInitiated answered %d; want 403", resp.StatusCode)
	}
	if r := e.refusals(t); len(r) != 1 || r[0] != "unsolicited_not_allowed" {
		t.Errorf("refusals %v; want unsolicited_not_allowed", r)
	}
}

func TestSAMLMembers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			idp := ssotest.NewSAMLIdP(t)
			conn := e.samlConnection(t, idp, `"jit":true`)
			signIn := func(t *testing.T, email string) (int, *loginResult) {
				br := browser(t)
				ar, relay := e.startSAML(t, br, conn)
				l := login{e, idp, ar, relay}
				a := l.valid()
				a.Email = email
				resp := e.post(t, br, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, a)), relay)
				code, who := e.whoami(t, br)
				return resp.StatusCode, &loginResult{code, who}
			}

			t.Run("JIT creates an unknown member with role NONE when no SCIM directory manages the organization", func(t *testing.T) {
				status, res := signIn(t, "Newcomer@Acme.test")
				if status != 303 || res.code != 200 || res.who["email"] != "newcomer@acme.test" || res.who["role"] != "NONE" {
					t.Errorf("got %d, session %d %v; want a new NONE member", status, res.code, res.who)
				}
			})
			t.Run("a suspended member is refused even with a valid assertion, and their session ended at the suspension", func(t *testing.T) {
				if status, _ := signIn(t, "ada@acme.test"); status != 303 {
					t.Fatalf("ada's first login answered %d", status)
				}
				m, _ := e.st.GetMember(t.Context(), e.orgID, e.memberID)
				next := *m
				next.Status = roster.MemberSuspended
				if err := e.st.Tx(t.Context(), roster.SystemActor("test"), func(tx store.Tx) error { return tx.UpdateMember(t.Context(), m, &next) }); err != nil {
					t.Fatal(err)
				}
				if sess, _ := e.st.ListMemberSessions(t.Context(), e.orgID, e.memberID); len(sess) != 0 {
					t.Errorf("the suspended member still has %d sessions", len(sess))
				}
				status, res := signIn(t, "ada@acme.test")
				if status != 403 || res.code != 401 {
					t.Errorf("got %d, session %d; want 403 and no session", status, res.code)
				}
				if r := e.refusals(t); len(r) == 0 || r[0] != "member_suspended" {
					t.Errorf("refusals %v; want member_suspended first", r)
				}
			})
			t.Run("with a SCIM directory the organization's members come from SCIM: JIT is off", func(t *testing.T) {
				if _, _, err := e.svc.CreateDirectory(t.Context(), roster.SystemActor("test"), e.orgID, "Okta", roster.RoleNone); err != nil {
					t.Fatal(err)
				}
				status, res := signIn(t, "latecomer@acme.test")
				if status != 403 || res.code != 401 {
					t.Errorf("got %d, session %d; want 403", status, res.code)
				}
				if r := e.refusals(t); len(r) == 0 || r[0] != "member_unknown" {
					t.Errorf("refusals %v; want member_unknown first", r)
				}
			})
		})
	}
}

type loginResult struct {
	code int
	who  map[string]string
}

func TestSAMLAttributeMappingAndDisabledConnections(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	idp := ssotest.NewSAMLIdP(t)
	entra := e.samlConnection(t, idp, `"attributeMapping":{"preset":"entra"},"jit":true`)

	t.Run("the entra preset reads the claim URIs Entra ID sends", func(t *testing.T) {
		br := browser(t)
		ar, relay := e.startSAML(t, br, entra)
		l := login{e, idp, ar, relay}
		a := l.valid()
		// NameID is an opaque id, as with Entra's persistent format; the email is a claim.
		a.Email = "opaque-id-123"
		a.Attributes = map[string]string{
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "Grace@Acme.test",
			"http://schemas.microsoft.com/identity/claims/displayname":           "Grace Hopper",
		}
		if resp := e.post(t, br, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, a)), relay); resp.StatusCode != 303 {
			t.Fatalf("callback answered %d", resp.StatusCode)
		}
		m, err := e.st.GetMemberByEmail(t.Context(), e.orgID, "grace@acme.test")
		if err != nil || m.Name != "Grace Hopper" {
			t.Errorf("member %+v, %v; want grace@acme.test named Grace Hopper", m, err)
		}
	})
	t.Run("a disabled connection cannot start a login and refuses its responses", func(t *testing.T) {
		br := browser(t)
		ar, relay := e.startSAML(t, br, entra)
		if code := e.api(t, "PATCH", "/saml/connections/"+entra, `{"enabled":false}`, nil); code != 200 {
			t.Fatalf("disable: %d", code)
		}
		l := login{e, idp, ar, relay}
		if resp := e.post(t, br, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, l.valid())), relay); resp.StatusCode != 403 {
			t.Errorf("a response to a disabled connection answered %d; want 403", resp.StatusCode)
		}
		if r := e.refusals(t); len(r) == 0 || r[0] != "connection_disabled" {
			t.Errorf("refusals %v", r)
		}
		resp, err := br.Get(e.base + "/saml/authorize/" + e.orgID + "?connection=" + entra)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("authorize through a disabled connection answered %d; want 404", resp.StatusCode)
		}
	})
}

func TestSAMLLoginIsBoundToTheBrowserOverHTTPS(t *testing.T) {
	e := newEnvTLS(t, backends[0].open(t), true)
	idp := ssotest.NewSAMLIdP(t)
	conn := e.samlConnection(t, idp, "")

	t.Run("the browser that started the login carries the SameSite=None cookie back and is signed in", func(t *testing.T) {
		br := e.browser()
		ar, relay := e.startSAML(t, br, conn)
		l := login{e, idp, ar, relay}
		if resp := e.post(t, br, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, l.valid())), relay); resp.StatusCode != 303 {
			t.Fatalf("callback answered %d; want 303", resp.StatusCode)
		}
		if code, _ := e.whoami(t, br); code != 200 {
			t.Errorf("GET /session = %d", code)
		}
	})
	t.Run("the same IdP answer posted from another browser is refused (login CSRF)", func(t *testing.T) {
		attacker := e.browser()
		ar, relay := e.startSAML(t, attacker, conn)
		l := login{e, idp, ar, relay}
		victim := e.browser()
		if resp := e.post(t, victim, "/saml/callback", ssotest.Encode(t, l.signedAssertion(t, l.valid())), relay); resp.StatusCode != 400 {
			t.Errorf("callback in the victim's browser answered %d; want 400", resp.StatusCode)
		}
		if code, _ := e.whoami(t, victim); code != 401 {
			t.Errorf("the victim's browser got a session")
		}
		if r := e.refusals(t); len(r) == 0 || r[0] != "state_mismatch" {
			t.Errorf("refusals %v; want state_mismatch", r)
		}
	})
}
