package scim

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/rosterhq/roster/internal/scim/schema"
)

// projection is the attributes / excludedAttributes of a request (RFC 7644 section 3.4.2.5
// and 3.9): which attributes a response carries.
type projection struct {
	include []attrRef
	exclude []attrRef
}

// attrRef is an attribute reference: the schema URN ("" for the core schema), the attribute
// and an optional sub-attribute, all lower-case.
type attrRef struct{ urn, name, sub string }

func (p projection) empty() bool { return len(p.include) == 0 && len(p.exclude) == 0 }

// parseProjection reads attributes and excludedAttributes from a query (or a .search body).
func parseProjection(q url.Values) projection {
	return projection{include: parseRefs(q["attributes"]), exclude: parseRefs(q["excludedAttributes"])}
}

func parseRefs(vals []string) []attrRef {
	var out []attrRef
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, parseRef(f))
			}
		}
	}
	return out
}

// parseRef splits "urn:…:User:manager.value" into its parts. A value filter some clients
// put in "attributes" (emails[type eq "work"]) selects the attribute.
func parseRef(s string) attrRef {
	s = strings.ToLower(s)
	if i := strings.IndexByte(s, '['); i > 0 {
		tail := ""
		if j := strings.LastIndexByte(s, ']'); j > i {
			tail = s[j+1:]
		}
		s = s[:i] + tail
	}
	var r attrRef
	if strings.HasPrefix(s, "urn:") {
		if i := strings.LastIndex(s, ":"); i > 0 {
			r.urn, s = s[:i], s[i+1:]
		}
	}
	r.name, r.sub, _ = strings.Cut(s, ".")
	return r
}

// alwaysReturned are the attributes a projection never removes.
func alwaysReturned(name string) bool {
	switch name {
	case "id", "schemas":
		return true
	}
	return false
}

// apply projects a rendered resource.
func (p projection) apply(rt *schema.ResourceType, body []byte) ([]byte, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	core := strings.ToLower(rt.Schema)
	if len(p.include) > 0 {
		keep := map[string]any{}
		for k, v := range m {
			lk := strings.ToLower(k)
			if alwaysReturned(lk) {
				keep[k] = v
				continue
			}
			if strings.HasPrefix(lk, "urn:") { // an extension object
				sub, _ := v.(map[string]any)
				kept := map[string]any{}
				for sk, sv := range sub {
					if p.includes(lk, strings.ToLower(sk), sv, &kept, sk) {
						kept[sk] = sv
					}
				}
				for _, r := range p.include {
					if r.urn == lk && r.name == "" {
						kept = sub
					}
				}
				if len(kept) > 0 {
					keep[k] = kept
				}
				continue
			}
			var sub map[string]any
			if p.includes(core, lk, v, &sub, k) {
				if sub != nil {
					keep[k] = sub
				} else {
					keep[k] = v
				}
			}
		}
		m = keep
	}
	for _, r := range p.exclude {
		if alwaysReturned(r.name) {
			continue
		}
		for k, v := range m {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "urn:") {
				if r.urn == lk {
					if sub, ok := v.(map[string]any); ok {
						for sk := range sub {
							if strings.ToLower(sk) == r.name && r.sub == "" {
								delete(sub, sk)
							}
						}
						if len(sub) == 0 {
							delete(m, k)
						}
					}
				}
				continue
			}
			if (r.urn == "" || r.urn == core) && lk == r.name {
				if r.sub == "" {
					delete(m, k)
				} else {
					removeSub(v, r.sub)
				}
			}
		}
	}
	return json.Marshal(m)
}

// includes reports whether attribute name (of schema urn) is asked for; for a request of
// sub-attributes only, it fills *sub with the kept part of a complex value.
func (p projection) includes(urn, name string, v any, sub *map[string]any, _ string) bool {
	whole := false
	var subs []string
	for _, r := range p.include {
		if r.name != name || (r.urn != "" && r.urn != urn) {
			continue
		}
		if r.sub == "" {
			whole = true
		} else {
			subs = append(subs, r.sub)
		}
	}
	if whole || len(subs) == 0 {
		return whole
	}
	if c, ok := v.(map[string]any); ok {
		kept := map[string]any{}
		for k, x := range c {
			for _, s := range subs {
				if strings.ToLower(k) == s {
					kept[k] = x
				}
			}
		}
		*sub = kept
		return len(kept) > 0
	}
	return true // multi-valued: keep whole elements (sub-selection of lists is rarely asked for)
}

func removeSub(v any, sub string) {
	switch x := v.(type) {
	case map[string]any:
		for k := range x {
			if strings.ToLower(k) == sub {
				delete(x, k)
			}
		}
	case []any:
		for _, e := range x {
			removeSub(e, sub)
		}
	}
}

// excludes reports whether a core attribute is left out of the response, so that a handler
// can skip computing it.
func (p projection) excludes(name string) bool {
	name = strings.ToLower(name)
	for _, r := range p.exclude {
		if r.name == name && r.sub == "" && (r.urn == "" || !strings.Contains(r.urn, "extension")) {
			return true
		}
	}
	if len(p.include) == 0 {
		return false
	}
	for _, r := range p.include {
		if r.name == name {
			return false
		}
	}
	return true
}
