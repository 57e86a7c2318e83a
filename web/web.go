// Package web holds the admin console's templates and static assets, embedded in the binary
// so that the console needs nothing beside it (no node toolchain in the build). htmx 2.0.11
// (0BSD, static/htmx-LICENSE.txt) is vendored as its one minified file; every form works
// without it.
package web

import "embed"

// Templates are the console's html/template files: layout.html and one file per page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static are the stylesheet, the console's small script and htmx, served under /static/.
//
//go:embed static
var Static embed.FS
