package admin

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim"
	"github.com/rosterhq/roster/internal/store"
)

// SCIM provisioning: "Enable SCIM" makes a directory and shows its base URL and bearer token
// once; each directory's page shows its settings, token expiry, group mappings, the request
// log with errors highlighted and a 30-day activity chart. Directories are made and changed
// by auth.Service, as through the directories API.

// scimBaseURL is where identity providers send SCIM requests.
func (c *Console) scimBaseURL() string { return c.BaseURL + "/scim/v2" }

type createdDirectory struct {
	Name, BaseURL, Token string
	ExpiresAt            time.Time
}

type scimPage struct {
	BaseURL      string
	Directories  []roster.Directory
	DefaultRoles []roster.Role
	Created      *createdDirectory
}

// defaultRoles are the roles a directory may give (never OWNER: provisioning makes no owners).
var defaultRoles = []roster.Role{roster.RoleNone, roster.RoleViewer, roster.RoleMember, roster.RoleAdmin}

func (c *Console) scimView(q *req, created *createdDirectory) (*view, error) {
	dirs, err := c.Store.ListDirectories(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	return q.view("scim", "SCIM provisioning", &scimPage{BaseURL: c.scimBaseURL(), Directories: dirs, DefaultRoles: defaultRoles, Created: created}), nil
}

// SCIM answers GET /orgs/{orgId}/scim.
func (c *Console) SCIM(q *req) error {
	v, err := c.scimView(q, nil)
	if err != nil {
		return err
	}
	return c.show(q, "scim", v, "")
}

// EnableSCIM answers POST /orgs/{orgId}/scim (name, defaultRole): a new directory and its
// first bearer token, shown once.
func (c *Console) EnableSCIM(q *req) error {
	role := roster.RoleNone
	if v := q.r.PostForm.Get("defaultRole"); v != "" {
		var err error
		if role, err = roster.ParseRole(v); err != nil {
			return err
		}
	}
	d, token, err := c.Auth.CreateDirectory(q.ctx(), q.actor(), q.org.ID, q.r.PostForm.Get("name"), role)
	if err != nil {
		return err
	}
	created := &createdDirectory{Name: d.Name, BaseURL: c.scimBaseURL(), Token: token}
	if d.TokenExpiresAt != nil {
		created.ExpiresAt = *d.TokenExpiresAt
	}
	v, err := c.scimView(q, created)
	if err != nil {
		return err
	}
	return c.show(q, "scim", v, q.base()+"/scim")
}

type newToken struct {
	Token     string
	ExpiresAt time.Time
	Grace     bool
	OldUntil  time.Time
}

type directoryPage struct {
	Directory    *roster.Directory
	BaseURL      string
	DefaultRoles []roster.Role
	Mappings     []roster.GroupRoleMapping
	Groups       []roster.SCIMGroup
	Projects     []roster.Project
	MapRoles     []roster.Role
	Requests     []roster.SCIMRequest
	Chart        template.HTML
	ChartTotal   int
	ChartErrors  int
	Token        *newToken
}

// requestLogShown is how many logged requests the directory page reads.
const requestLogShown = 1000

func (c *Console) directory(q *req) (*roster.Directory, error) {
	id := q.r.PathValue("dirId")
	if !roster.ValidID(id) {
		return nil, roster.E(roster.NotFound, "no such directory")
	}
	return c.Store.GetDirectory(q.ctx(), q.org.ID, id)
}

func (c *Console) directoryView(q *req, tok *newToken) (*view, error) {
	d, err := c.directory(q)
	if err != nil {
		return nil, err
	}
	ms, err := c.Store.ListGroupMappings(q.ctx(), q.org.ID, d.ID)
	if err != nil {
		return nil, err
	}
	var groups []roster.SCIMGroup
	var projects []roster.Project
	if q.me.Role.AtLeast(changeRole) {
		if groups, _, err = c.Store.ListSCIMGroups(q.ctx(), q.org.ID, d.ID, store.Query{Limit: mappingChoices}); err != nil {
			return nil, err
		}
		if projects, _, err = c.Store.ListProjects(q.ctx(), q.org.ID, store.ListPage{Limit: mappingChoices}); err != nil {
			return nil, err
		}
	}
	if c.RequestLog != nil {
		if err := c.RequestLog.Flush(q.ctx()); err != nil {
			return nil, err
		}
	}
	reqs, err := c.Store.ListSCIMRequests(q.ctx(), q.org.ID, d.ID, requestLogShown)
	if err != nil {
		return nil, err
	}
	if c.RequestLog != nil {
		reqs = append(reqs, c.RequestLog.Reads(d.ID)...)
		sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].At.After(reqs[j].At) })
	}
	chart, total, errs := activityChart(reqs, c.Now())
	shown := reqs
	if len(shown) > 200 {
		shown = shown[:200]
	}
	return q.view("scim", d.Name, &directoryPage{Directory: d, BaseURL: c.scimBaseURL(), DefaultRoles: defaultRoles, Mappings: ms,
		Groups: groups, Projects: projects, MapRoles: defaultRoles, Requests: shown, Chart: chart, ChartTotal: total, ChartErrors: errs, Token: tok}), nil
}

// Directory answers GET /orgs/{orgId}/scim/{dirId}.
func (c *Console) Directory(q *req) error {
	v, err := c.directoryView(q, nil)
	if err != nil {
		return err
	}
	return c.show(q, "directory", v, "")
}

// RegenerateToken answers POST /orgs/{orgId}/scim/{dirId}/regenerate (graceSeconds): the new
// token is shown once; the old one stops at once or after the grace period.
func (c *Console) RegenerateToken(q *req) error {
	grace, err := graceForm(q.r.PostForm.Get("graceSeconds"))
	if err != nil {
		return err
	}
	d, err := c.directory(q)
	if err != nil {
		return err
	}
	tok, token, err := c.Auth.RegenerateToken(q.ctx(), q.actor(), q.org.ID, d.ID, grace)
	if err != nil {
		return err
	}
	v, err := c.directoryView(q, &newToken{Token: token, ExpiresAt: tok.ExpiresAt, Grace: grace > 0, OldUntil: c.Now().Add(grace)})
	if err != nil {
		return err
	}
	return c.show(q, "directory", v, q.base()+"/scim/"+d.ID)
}

// DirectorySettings answers POST /orgs/{orgId}/scim/{dirId}/settings (name, defaultRole,
// enabled): a disabled directory refuses its token at once.
func (c *Console) DirectorySettings(q *req) error {
	d, err := c.directory(q)
	if err != nil {
		return err
	}
	f := q.r.PostForm
	name := f.Get("name")
	enabled := f.Get("enabled") == "true"
	patch := auth.DirectoryPatch{Name: &name, Enabled: &enabled}
	if v := f.Get("defaultRole"); v != "" {
		role, err := roster.ParseRole(v)
		if err != nil {
			return err
		}
		patch.DefaultRole = &role
	}
	if _, err := c.Auth.UpdateDirectory(q.ctx(), q.actor(), q.org.ID, d.ID, patch); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/scim/"+d.ID, "saved")
}

// DeleteDirectory answers POST /orgs/{orgId}/scim/{dirId}/delete.
func (c *Console) DeleteDirectory(q *req) error {
	d, err := c.directory(q)
	if err != nil {
		return err
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error { return tx.DeleteDirectory(q.ctx(), q.org.ID, d.ID) }); err != nil {
		return err
	}
	if c.RequestLog != nil {
		c.RequestLog.Forget(d.ID)
	}
	return q.seeOther(q.base()+"/scim", "deleted")
}

// mappingChoices bounds the groups and projects the mapping form offers.
const mappingChoices = 500

// mappingForm reads a mapping from a form (groupId, projectId, role).
func mappingForm(q *req) (roster.GroupRoleMapping, error) {
	role, err := roster.ParseRole(q.r.PostForm.Get("role"))
	if err != nil {
		return roster.GroupRoleMapping{}, err
	}
	m := roster.GroupRoleMapping{GroupID: q.r.PostForm.Get("groupId"), ProjectID: q.r.PostForm.Get("projectId"), Role: role}
	return m, scim.CheckMapping(m)
}

// changeMappings replaces the directory's mappings with edit applied to them, recomputing the
// roles of the groups' members as the API's PUT does (scim.ReplaceGroupMappings).
func (c *Console) changeMappings(q *req, edit func([]roster.GroupRoleMapping) []roster.GroupRoleMapping) error {
	d, err := c.directory(q)
	if err != nil {
		return err
	}
	err = c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		cur, err := tx.ListGroupMappings(q.ctx(), q.org.ID, d.ID)
		if err != nil {
			return err
		}
		_, err = scim.ReplaceGroupMappings(q.ctx(), tx, q.org.ID, d.ID, edit(cur))
		return err
	})
	if err != nil {
		return err
	}
	return q.seeOther(q.base()+"/scim/"+d.ID, "saved")
}

// AddMapping answers POST /orgs/{orgId}/scim/{dirId}/group-mappings (groupId, projectId,
// role): a mapping for the group, replacing its mapping to the same place.
func (c *Console) AddMapping(q *req) error {
	m, err := mappingForm(q)
	if err != nil {
		return err
	}
	return c.changeMappings(q, func(cur []roster.GroupRoleMapping) []roster.GroupRoleMapping {
		out := []roster.GroupRoleMapping{m}
		for _, x := range cur {
			if x.GroupID != m.GroupID || x.ProjectID != m.ProjectID {
				out = append(out, x)
			}
		}
		return out
	})
}

// RemoveMapping answers POST /orgs/{orgId}/scim/{dirId}/group-mappings/remove (groupId,
// projectId, role).
func (c *Console) RemoveMapping(q *req) error {
	m, err := mappingForm(q)
	if err != nil {
		return err
	}
	return c.changeMappings(q, func(cur []roster.GroupRoleMapping) []roster.GroupRoleMapping {
		var out []roster.GroupRoleMapping
		for _, x := range cur {
			if x.GroupID != m.GroupID || x.ProjectID != m.ProjectID || x.Role != m.Role {
				out = append(out, x)
			}
		}
		return out
	})
}

// chartDays is the span of the activity chart.
const chartDays = 30

// activityChart draws requests and errors per day over the last 30 days as an inline SVG
// bar chart (two bars a day), with a text alternative for screen readers.
func activityChart(reqs []roster.SCIMRequest, now time.Time) (template.HTML, int, int) {
	today := now.UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(chartDays - 1))
	var total, errs [chartDays]int
	all, allErr := 0, 0
	for _, r := range reqs {
		day := int(r.At.UTC().Sub(first) / (24 * time.Hour))
		if r.At.Before(first) || day < 0 || day >= chartDays {
			continue
		}
		total[day]++
		all++
		if r.Status >= 400 {
			errs[day]++
			allErr++
		}
	}
	peak := 1
	for _, n := range total {
		peak = max(peak, n)
	}
	const w, h, top, bottom, left = 600, 160, 10, 20, 30
	bw := float64(w-left) / chartDays
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-label="%d requests and %d errors in the last %d days">`, w, h, all, allErr, chartDays)
	fmt.Fprintf(&b, `<title>Provisioning activity: %d requests, %d errors, last %d days</title>`, all, allErr, chartDays)
	plot := float64(h - top - bottom)
	fmt.Fprintf(&b, `<text x="0" y="%d">%d</text><text x="0" y="%d">0</text>`, top+8, peak, h-bottom)
	for i := range chartDays {
		x := float64(left) + float64(i)*bw
		rh := plot * float64(total[i]) / float64(peak)
		eh := plot * float64(errs[i]) / float64(peak)
		day := first.AddDate(0, 0, i).Format("Jan 2")
		fmt.Fprintf(&b, `<g><title>%s: %d requests, %d errors</title>`, day, total[i], errs[i])
		fmt.Fprintf(&b, `<rect class="req" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x+1, float64(h-bottom)-rh, bw/2-1, rh)
		fmt.Fprintf(&b, `<rect class="errbar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></g>`, x+bw/2, float64(h-bottom)-eh, bw/2-1, eh)
		if i%7 == 0 || i == chartDays-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x, h-5, day)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), all, allErr
}
