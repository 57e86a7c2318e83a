package scim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/schema"
	"github.com/rosterhq/roster/internal/store"
)

// listParams are the query parameters of a list or search (RFC 7644 sections 3.4.2 and
// 3.4.3), and the cursor of RFC 9865.
type listParams struct {
	filter     string
	sortBy     string
	sortOrder  string
	startIndex int
	count      int
	hasCursor  bool
	cursor     string
	proj       projection
}

func atoiParam(q url.Values, name string, def int) (int, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalidValue(name + " must be an integer")
	}
	return n, nil
}

// parseListParams reads a query string. RFC 7644 section 3.4.2.4: a startIndex below 1 is
// 1, a negative count is 0, and a count above the maximum is the maximum.
func parseListParams(q url.Values) (listParams, error) {
	var p listParams
	var err error
	p.filter = q.Get("filter")
	p.sortBy = q.Get("sortBy")
	p.sortOrder = q.Get("sortOrder")
	if p.startIndex, err = atoiParam(q, "startIndex", 1); err != nil {
		return p, err
	}
	if p.startIndex < 1 {
		p.startIndex = 1
	}
	if p.count, err = atoiParam(q, "count", DefaultCount); err != nil {
		return p, err
	}
	p.count = max(0, min(p.count, MaxResults))
	p.cursor, p.hasCursor = q.Get("cursor"), q.Has("cursor")
	p.proj = parseProjection(q)
	return p, nil
}

// searchRequest is the body of POST /.search (RFC 7644 section 3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Cursor             *string  `json:"cursor"`
}

// searchParams reads a .search body into the same parameters a GET takes.
func searchParams(r *http.Request) (listParams, error) {
	body, err := readBody(r)
	if err != nil {
		return listParams{}, err
	}
	var s searchRequest
	if err := json.Unmarshal(body, &s); err != nil {
		return listParams{}, invalidSyntax("the search request is not valid JSON")
	}
	q := url.Values{}
	if s.Filter != "" {
		q.Set("filter", s.Filter)
	}
	q.Set("sortBy", s.SortBy)
	q.Set("sortOrder", s.SortOrder)
	if s.StartIndex != nil {
		q.Set("startIndex", strconv.Itoa(*s.StartIndex))
	}
	if s.Count != nil {
		q.Set("count", strconv.Itoa(*s.Count))
	}
	if s.Cursor != nil {
		q.Set("cursor", *s.Cursor)
	}
	if len(s.Attributes) > 0 {
		q.Set("attributes", strings.Join(s.Attributes, ","))
	}
	if len(s.ExcludedAttributes) > 0 {
		q.Set("excludedAttributes", strings.Join(s.ExcludedAttributes, ","))
	}
	return parseListParams(q)
}

// query turns list parameters into a store query for resource type rt.
func (p listParams) query(rt *schema.ResourceType) (store.Query, error) {
	q := store.Query{Offset: p.startIndex - 1, Limit: p.count, CountTotal: true}
	if p.filter != "" {
		c, err := compileFilter(rt, p.filter)
		if err != nil {
			return q, err
		}
		q.Where = c
	}
	if p.sortBy != "" {
		f, err := sortField(rt, p.sortBy)
		if err != nil {
			return q, err
		}
		q.SortBy = f
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.SortDesc = true
	default:
		return q, invalidValue(`sortOrder must be "ascending" or "descending"`)
	}
	if p.hasCursor {
		if p.sortBy != "" {
			return q, invalidValue("cursor pagination follows creation order: it cannot be combined with sortBy")
		}
		q.Offset = 0
		if p.cursor != "" {
			after, err := base64.RawURLEncoding.DecodeString(p.cursor)
			if err != nil || !roster.ValidID(string(after)) {
				return q, badRequest("invalidCursor", "the cursor is not one this server issued")
			}
			q.After = string(after)
		}
		q.Limit = p.count + 1 // one more tells whether there is a next page
	}
	return q, nil
}

// listResponse writes a ListResponse of rendered resources.
// writeList answers a ListResponse (RFC 7644 section 3.4.2). The resources are JSON this
// server rendered: they are written as they are, where encoding/json would scan each again.
func writeList(w http.ResponseWriter, p listParams, total int, resources []json.RawMessage, next string) {
	size := 256
	for _, r := range resources {
		size += len(r) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"schemas":["`+ListResponseSchema+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	if !p.hasCursor && p.startIndex != 0 {
		b = append(b, `,"startIndex":`...)
		b = strconv.AppendInt(b, int64(p.startIndex), 10)
	}
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(resources)), 10)
	if next != "" {
		b = append(b, `,"nextCursor":"`...)
		b = append(b, next...) // base64url: nothing to escape
		b = append(b, '"')
	}
	b = append(b, `,"Resources":[`...)
	for i, r := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// ListUsers answers GET /Users.
func (h *Handler) ListUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	return h.listUsers(w, r, p)
}

// SearchUsers answers POST /Users/.search.
func (h *Handler) SearchUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := searchParams(r)
	if err != nil {
		return err
	}
	return h.listUsers(w, r, p)
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p listParams) error {
	dir, _, err := directory(r)
	if err != nil {
		return err
	}
	q, err := p.query(schema.UserResource)
	if err != nil {
		return err
	}
	users, total, err := h.Store.ListSCIMUsers(r.Context(), dir.OrgID, dir.ID, q)
	if err != nil {
		return err
	}
	next := ""
	if p.hasCursor && len(users) > p.count {
		users = users[:p.count]
		next = base64.RawURLEncoding.EncodeToString([]byte(users[len(users)-1].ID))
	}
	out := make([]json.RawMessage, 0, len(users))
	for i := range users {
		b, err := h.userJSON(&users[i], users[i].Groups, p.proj)
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	writeList(w, p, total, out, next)
	return nil
}

// ListGroups answers GET /Groups.
func (h *Handler) ListGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	return h.listGroups(w, r, p)
}

// SearchGroups answers POST /Groups/.search.
func (h *Handler) SearchGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := searchParams(r)
	if err != nil {
		return err
	}
	return h.listGroups(w, r, p)
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, p listParams) error {
	dir, _, err := directory(r)
	if err != nil {
		return err
	}
	q, err := p.query(schema.GroupResource)
	if err != nil {
		return err
	}
	groups, total, err := h.Store.ListSCIMGroups(r.Context(), dir.OrgID, dir.ID, q)
	if err != nil {
		return err
	}
	next := ""
	if p.hasCursor && len(groups) > p.count {
		groups = groups[:p.count]
		next = base64.RawURLEncoding.EncodeToString([]byte(groups[len(groups)-1].ID))
	}
	withMembers := !p.proj.excludes("members")
	out := make([]json.RawMessage, 0, len(groups))
	for i := range groups {
		var members []roster.GroupMember
		if withMembers {
			if members, err = h.Store.GroupMembers(r.Context(), dir.OrgID, dir.ID, groups[i].ID); err != nil {
				return err
			}
		}
		b, err := h.groupJSON(&groups[i], members, p.proj)
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	writeList(w, p, total, out, next)
	return nil
}

// SearchRoot answers POST /.search (RFC 7644 section 3.4.3): a search across Users and
// Groups. Roster answers it over users, the resource every identity provider searches, and
// over groups when the filter names only group attributes; the totals add up.
func (h *Handler) SearchRoot(w http.ResponseWriter, r *http.Request) error {
	p, err := searchParams(r)
	if err != nil {
		return err
	}
	if _, uerr := p.query(schema.UserResource); uerr != nil {
		if _, gerr := p.query(schema.GroupResource); gerr == nil {
			return h.listGroups(w, r, p)
		}
		return uerr
	}
	return h.listUsers(w, r, p)
}
