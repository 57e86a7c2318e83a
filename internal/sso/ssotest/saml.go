package ssotest

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAMLIdP is a SAML identity provider for tests.
type SAMLIdP struct {
	Server   *httptest.Server
	EntityID string
	key      *rsa.PrivateKey
	cert     []byte // DER

	mu sync.Mutex
	// Email is who the IdP signs in when a browser reaches its SSO endpoint.
	Email string
}

// NewSAMLIdP starts an IdP with a fresh 2048-bit key and self-signed certificate.
func NewSAMLIdP(t testing.TB) *SAMLIdP {
	t.Helper()
	key, cert := newCert(t, "test-idp")
	idp := &SAMLIdP{key: key, cert: cert}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso", idp.sso)
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = io.WriteString(w, idp.Metadata())
	})
	idp.Server = httptest.NewServer(mux)
	idp.EntityID = idp.Server.URL + "/entity"
	t.Cleanup(idp.Server.Close)
	return idp
}

func newCert(t testing.TB, cn string) (*rsa.PrivateKey, []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

// MetadataURL is where the IdP serves its metadata.
func (i *SAMLIdP) MetadataURL() string { return i.Server.URL + "/metadata" }

// SSOURL is the IdP's HTTP-Redirect single sign-on endpoint.
func (i *SAMLIdP) SSOURL() string { return i.Server.URL + "/sso" }

// CertPEM is the IdP's signing certificate.
func (i *SAMLIdP) CertPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.cert}))
}

// Metadata is the IdP's EntityDescriptor.
func (i *SAMLIdP) Metadata() string {
	return fmt.Sprintf(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`, i.EntityID, base64.StdEncoding.EncodeToString(i.cert), i.SSOURL(), i.SSOURL())
}

// Assertion describes a response the IdP builds. Zero fields take sensible values.
type Assertion struct {
	ResponseID, AssertionID string
	InResponseTo            string
	Destination, Recipient  string
	Audience                string
	// NoAudience leaves out the AudienceRestriction.
	NoAudience              bool
	Issuer                  string
	NotBefore, NotOnOrAfter time.Time
	Email                   string
	FirstName, LastName     string
	// Attributes are extra attributes by name.
	Attributes map[string]string
}

// Build returns an unsigned Response document for a.
func (i *SAMLIdP) Build(a Assertion) *etree.Document {
	now := time.Now().UTC()
	if a.ResponseID == "" {
		a.ResponseID = "_r" + randHex()
	}
	if a.AssertionID == "" {
		a.AssertionID = "_a" + randHex()
	}
	if a.Issuer == "" {
		a.Issuer = i.EntityID
	}
	if a.NotBefore.IsZero() {
		a.NotBefore = now.Add(-30 * time.Second)
	}
	if a.NotOnOrAfter.IsZero() {
		a.NotOnOrAfter = now.Add(5 * time.Minute)
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	doc := etree.NewDocument()
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	resp.CreateAttr("ID", a.ResponseID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", ts(now))
	if a.Destination != "" {
		resp.CreateAttr("Destination", a.Destination)
	}
	if a.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", a.InResponseTo)
	}
	resp.CreateElement("saml:Issuer").SetText(a.Issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")

	as := resp.CreateElement("saml:Assertion")
	// Declared again on the assertion, as IdPs do, so that it can be signed on its own.
	as.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	as.CreateAttr("ID", a.AssertionID)
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", ts(now))
	as.CreateElement("saml:Issuer").SetText(a.Issuer)
	subj := as.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
	nid.SetText(a.Email)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if a.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", a.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", ts(a.NotOnOrAfter))
	scd.CreateAttr("Recipient", a.Recipient)
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(a.NotBefore))
	cond.CreateAttr("NotOnOrAfter", ts(a.NotOnOrAfter))
	if !a.NoAudience {
		cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(a.Audience)
	}
	authn := as.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", ts(now))
	authn.CreateAttr("SessionIndex", "_s"+randHex())
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	attrs := as.CreateElement("saml:AttributeStatement")
	add := func(name, v string) {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateElement("saml:AttributeValue").SetText(v)
	}
	add("email", a.Email)
	if a.FirstName != "" {
		add("firstName", a.FirstName)
	}
	if a.LastName != "" {
		add("lastName", a.LastName)
	}
	for k, v := range a.Attributes {
		add(k, v)
	}
	return doc
}

func randHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

type keyStore struct {
	key  *rsa.PrivateKey
	cert []byte
}

func (k keyStore) GetKeyPair() (*rsa.PrivateKey, []byte, error) { return k.key, k.cert, nil }

// Sign signs el (an Assertion or the Response) in place with the IdP's key, putting the
// Signature right after the element's Issuer as the schema wants.
func (i *SAMLIdP) Sign(t testing.TB, el *etree.Element) {
	t.Helper()
	signEl(t, el, keyStore{i.key, i.cert})
}

// SignWithStrangerKey signs el with a key the connection does not know.
func SignWithStrangerKey(t testing.TB, el *etree.Element) {
	t.Helper()
	key, cert := newCert(t, "stranger")
	signEl(t, el, keyStore{key, cert})
}

func signEl(t testing.TB, el *etree.Element, ks keyStore) {
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	idx := 0
	for j, c := range el.ChildElements() {
		if c.Tag == "Issuer" {
			idx = j + 1
		}
	}
	el.InsertChildAt(childIndex(el, idx), sig)
}

// childIndex converts an index among child elements into an index among all child tokens.
func childIndex(el *etree.Element, elemIdx int) int {
	n := 0
	for j, tok := range el.Child {
		if _, ok := tok.(*etree.Element); ok {
			if n == elemIdx {
				return j
			}
			n++
		}
	}
	return len(el.Child)
}

// Encode serialises a response document for the HTTP-POST binding.
func Encode(t testing.TB, doc *etree.Document) string {
	t.Helper()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// AuthnRequest is what the IdP reads from an HTTP-Redirect SAMLRequest.
type AuthnRequest struct {
	ID, ACS, Issuer string
}

// ParseRedirect decodes the SAMLRequest of an HTTP-Redirect binding URL query value.
func ParseRedirect(samlRequest string) (*AuthnRequest, error) {
	raw, err := base64.StdEncoding.DecodeString(samlRequest)
	if err != nil {
		return nil, err
	}
	xmlb, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xmlb); err != nil {
		return nil, err
	}
	root := doc.Root()
	ar := &AuthnRequest{ID: root.SelectAttrValue("ID", ""), ACS: root.SelectAttrValue("AssertionConsumerServiceURL", "")}
	if iss := root.FindElement("./Issuer"); iss != nil {
		ar.Issuer = iss.Text()
	}
	return ar, nil
}

var postForm = template.Must(template.New("post").Parse(`<!doctype html><html><body onload="document.forms[0].submit()">
<form method="post" action="{{.ACS}}"><input type="hidden" name="SAMLResponse" value="{{.Response}}">
<input type="hidden" name="RelayState" value="{{.Relay}}"><noscript><button>Continue</button></noscript></form></body></html>`))

// sso is the IdP's sign-in: it "authenticates" Email at once and posts a signed response
// back to the ACS the request names, as real IdPs do after their login page.
func (i *SAMLIdP) sso(w http.ResponseWriter, r *http.Request) {
	ar, err := ParseRedirect(r.URL.Query().Get("SAMLRequest"))
	if err != nil {
		http.Error(w, "bad SAMLRequest: "+err.Error(), 400)
		return
	}
	i.mu.Lock()
	email := i.Email
	i.mu.Unlock()
	doc := i.Build(Assertion{InResponseTo: ar.ID, Destination: ar.ACS, Recipient: ar.ACS, Audience: ar.Issuer, Email: email})
	i.Sign(testingNoop{}, doc.Root().FindElement("./Assertion"))
	b, _ := doc.WriteToBytes()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = postForm.Execute(w, map[string]string{"ACS": ar.ACS, "Response": base64.StdEncoding.EncodeToString(b), "Relay": r.URL.Query().Get("RelayState")})
}

// SetEmail sets who the IdP signs in.
func (i *SAMLIdP) SetEmail(e string) {
	i.mu.Lock()
	i.Email = e
	i.mu.Unlock()
}

// testingNoop lets server handlers sign without a *testing.T (signing errors panic there).
type testingNoop struct{ testing.TB }

func (testingNoop) Helper()                   {}
func (testingNoop) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
