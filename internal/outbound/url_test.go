package outbound

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string // substring of the error; "" means valid
	}{
		{"an https URL is valid", "https://hooks.example.com/roster", ""},
		{"an http URL is valid", "http://idp.example.com/metadata", ""},
		{"a URL with a port, query and fragment is valid", "https://idp.example.com:8443/.well-known/openid-configuration?x=1#y", ""},
		{"a URL with an IPv6 literal host is valid", "https://[2001:4860:4860::8888]/jwks", ""},
		{"an upper-case scheme is valid", "HTTPS://example.com/", ""},
		{"an empty string is refused", "", "the URL is empty"},
		{"a relative path is refused", "/webhooks/roster", "must be absolute"},
		{"a host without a scheme is refused", "example.com/hook", "must be absolute"},
		{"an ftp URL is refused", "ftp://example.com/file", `not "ftp"`},
		{"a file URL is refused", "file:///etc/passwd", `not "file"`},
		{"a javascript URL is refused", "javascript:alert(1)", `not "javascript"`},
		{"a gopher URL is refused", "gopher://127.0.0.1:6379/_INFO", `not "gopher"`},
		{"an opaque http URL is refused", "http:example.com", "followed by a host"},
		{"a URL with a user name is refused", "https://admin@example.com/", "user name or password"},
		{"a URL with a password is refused", "https://admin:hunter2@example.com/", "user name or password"},
		{"a URL without a host is refused", "https:///path", "no host"},
		{"a URL with only a port is refused", "https://:443/path", "no host"},
		{"a port of zero is refused", "https://example.com:0/", "between 1 and 65535"},
		{"a port above 65535 is refused", "https://example.com:70000/", "between 1 and 65535"},
		{"an empty port is refused", "https://example.com:/", "port after ':' is empty"},
		{"a URL with a space in the host cannot be parsed", "https://exa mple.com/", "cannot be parsed"},
		{"a URL with a control character cannot be parsed", "https://example.com/\n", "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckURL(tt.url)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("CheckURL(%q) = %v, want ErrInvalidURL", tt.url, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckURL(%q) = %q, want it to contain %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
