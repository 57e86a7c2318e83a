package scim

import "strings"

// Bases are the URL prefixes under which the SCIM service answers: its own and the one the
// ABV (Langfuse) guides give to identity providers.
var Bases = []string{"/scim/v2", "/api/public/scim"}

// endpoints are the RFC 7644 section 3.2 endpoint names, by lower-case key. The Microsoft
// validator's older "/serviceConfiguration" is an alias of ServiceProviderConfig.
var endpoints = map[string]string{
	"users":                 "Users",
	"groups":                "Groups",
	"serviceproviderconfig": "ServiceProviderConfig",
	"serviceconfiguration":  "ServiceProviderConfig",
	"resourcetypes":         "ResourceTypes",
	"schemas":               "Schemas",
	"bulk":                  "Bulk",
	".search":               ".search",
	"me":                    "Me",
}

// Canonicalize rewrites a SCIM request path to the form the router knows: the endpoint
// segment in its RFC case ("/users" -> "/Users"), the alias resolved, and a trailing slash
// dropped. Identity providers and validators send all of these. Other paths come back as
// they were, with ok false.
func Canonicalize(path string) (string, bool) {
	for _, base := range Bases {
		if !strings.HasPrefix(path, base+"/") {
			continue
		}
		rest := strings.TrimSuffix(path[len(base)+1:], "/")
		seg, tail, _ := strings.Cut(rest, "/")
		name, ok := endpoints[strings.ToLower(seg)]
		if !ok {
			return path, false
		}
		out := base + "/" + name
		if tail != "" {
			out += "/" + tail
		}
		return out, true
	}
	return path, false
}

// IsSCIMPath reports whether path is under a SCIM base, so errors there use the SCIM format.
func IsSCIMPath(path string) bool {
	for _, base := range Bases {
		if path == base || strings.HasPrefix(path, base+"/") {
			return true
		}
	}
	return false
}
