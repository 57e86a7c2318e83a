package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/schema"
)

// etag is the weak entity tag of a resource version (RFC 7644 section 3.14).
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads an If-Match / If-None-Match value into a version; ok is false for "*" or
// anything that is not one of ours (which then never matches).
func parseETag(s string) (v int64, any bool, ok bool) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return 0, true, true
	}
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, false
	}
	return n, false, true
}

// meta is the meta attribute (RFC 7643 section 3.1).
type meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

func newMeta(rt, location string, created, modified time.Time, version int64) meta {
	return meta{ResourceType: rt, Created: created.UTC().Format(time.RFC3339Nano),
		LastModified: modified.UTC().Format(time.RFC3339Nano), Location: location, Version: etag(version)}
}

// splice renders a stored document with the server-owned attributes added, without
// decoding the document: the fast path of every read that asks for no projection.
func splice(stored json.RawMessage, head []byte, tail ...any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(stored) + 512)
	buf.WriteByte('{')
	buf.Write(head)
	inner := bytes.TrimSpace(stored)
	inner = bytes.TrimSuffix(bytes.TrimPrefix(inner, []byte("{")), []byte("}"))
	inner = bytes.TrimSpace(inner)
	if len(inner) > 0 {
		buf.WriteByte(',')
		buf.Write(inner)
	}
	for i := 0; i+1 < len(tail); i += 2 {
		if tail[i+1] == nil {
			continue
		}
		v, err := json.Marshal(tail[i+1])
		if err != nil {
			return nil, err
		}
		buf.WriteString(`,"`)
		buf.WriteString(tail[i].(string))
		buf.WriteString(`":`)
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func schemasHead(core string, stored json.RawMessage, exts []schema.Extension, id string) []byte {
	var buf bytes.Buffer
	buf.WriteString(`"schemas":[`)
	buf.Write(quote(core))
	for _, e := range exts {
		if bytes.Contains(stored, []byte(`"`+e.Schema+`"`)) {
			buf.WriteByte(',')
			buf.Write(quote(e.Schema))
		}
	}
	buf.WriteString(`],"id":`)
	buf.Write(quote(id))
	return buf.Bytes()
}

// userJSON renders a user, projected as the request asks.
func (h *Handler) userJSON(u *roster.SCIMUser, groups []roster.GroupRef, p projection) ([]byte, error) {
	var gv any
	if len(groups) > 0 {
		list := make([]map[string]string, len(groups))
		for i, g := range groups {
			list[i] = map[string]string{"value": g.Value, "display": g.Display, "$ref": h.location("Groups", g.Value), "type": "direct"}
		}
		gv = list
	}
	m := newMeta("User", h.location("Users", u.ID), u.CreatedAt, u.UpdatedAt, u.Version)
	out, err := splice(u.Resource, schemasHead(schema.UserSchema, u.Resource, schema.UserResource.Extensions, u.ID),
		"groups", gv, "meta", m)
	if err != nil || p.empty() {
		return out, err
	}
	return p.apply(schema.UserResource, out)
}

// groupJSON renders a group with its members, projected as the request asks.
func (h *Handler) groupJSON(g *roster.SCIMGroup, members []roster.GroupMember, p projection) ([]byte, error) {
	var mv any
	if len(members) > 0 { // an empty multi-valued attribute is unassigned: left out
		list := make([]map[string]string, len(members))
		for i, x := range members {
			e := map[string]string{"value": x.Value, "type": x.Type, "$ref": h.location(x.Type+"s", x.Value)}
			if x.Display != "" {
				e["display"] = x.Display
			}
			list[i] = e
		}
		mv = list
	}
	m := newMeta("Group", h.location("Groups", g.ID), g.CreatedAt, g.UpdatedAt, g.Version)
	out, err := splice(g.Resource, schemasHead(schema.GroupSchema, g.Resource, nil, g.ID), "members", mv, "meta", m)
	if err != nil || p.empty() {
		return out, err
	}
	return p.apply(schema.GroupResource, out)
}

func (h *Handler) location(endpoint, id string) string {
	return h.BaseURL + "/scim/v2/" + endpoint + "/" + id
}

// writeResource answers one resource with its ETag (and Location on 201).
func writeResource(w http.ResponseWriter, status int, body []byte, version int64, location string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", etag(version))
	if status == http.StatusCreated {
		w.Header().Set("Location", location)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
