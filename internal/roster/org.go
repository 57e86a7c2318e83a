package roster

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Organization is the tenancy root: every other row belongs to exactly one.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// MaxNameLen bounds human-entered names (organizations, directories, notes).
const MaxNameLen = 200

// CleanName trims a human-entered name and checks it is present, printable and bounded.
func CleanName(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", E(Invalid, "%s is required", what)
	case !utf8.ValidString(s):
		return "", E(Invalid, "%s must be valid UTF-8", what)
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", E(Invalid, "%s is longer than %d characters", what, MaxNameLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", E(Invalid, "%s contains a control character", what)
		}
	}
	return s, nil
}
