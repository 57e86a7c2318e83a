package httpapi

import (
	"context"
	"net/url"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SSOLogin is the OAuth provider's hand-off to the organization's SSO login
// (oauth.Config.SSOLogin): the path where the browser of a member who gave email starts its
// sign-in. It is the OIDC login when the email's domain is assigned to an OIDC connection, or
// when the organization has enabled OIDC connections and no enabled SAML one; the SAML login
// otherwise. Both route by the email's domain themselves and honour the returnTo the
// provider appends.
func SSOLogin(st store.Store) func(ctx context.Context, orgID, email string) (string, error) {
	return func(ctx context.Context, orgID, email string) (string, error) {
		samls, err := st.ListSAMLConnections(ctx, orgID)
		if err != nil {
			return "", err
		}
		oidcs, err := st.ListOIDCConnections(ctx, orgID)
		if err != nil {
			return "", err
		}
		oidcByID := map[string]bool{}
		for _, c := range oidcs {
			if c.Enabled {
				oidcByID[c.ID] = true
			}
		}
		anySAML := false
		for _, c := range samls {
			anySAML = anySAML || c.Enabled
		}
		protocol := "saml"
		if len(oidcByID) > 0 && !anySAML {
			protocol = "oidc"
		}
		if dom := roster.EmailDomain(email); dom != "" {
			doms, err := st.ListSSODomains(ctx, orgID)
			if err != nil {
				return "", err
			}
			for _, d := range doms {
				if d.Domain == dom && d.ConnectionID != "" {
					if oidcByID[d.ConnectionID] {
						protocol = "oidc"
					} else {
						protocol = "saml"
					}
				}
			}
		}
		q := url.Values{}
		if email != "" {
			q.Set("email", email)
		}
		return "/" + protocol + "/authorize/" + url.PathEscape(orgID) + "?" + q.Encode(), nil
	}
}
