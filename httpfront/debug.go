package httpfront

import (
	"html/template"
	"strconv"
	"strings"

	"wsgo/wsgi"
)

// debugTemplate is the --debug page for an exception raised before the
// response started. html/template escapes every value: the traceback and
// the headers hold whatever the client sent.
var debugTemplate = template.Must(template.New("debug").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>500 Internal Server Error: {{.Summary}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 1em; overflow: auto; }
th { text-align: left; padding-right: 2em; vertical-align: top; }
td { font-family: monospace; word-break: break-all; }
.note { color: #666; }
</style>
</head>
<body>
<h1>500 Internal Server Error</h1>
<p>The application raised <strong>{{.Summary}}</strong> before it started its response.</p>
<h2>Traceback</h2>
<pre>{{.Traceback}}</pre>
<h2>Request</h2>
<table>
<tr><th>Method</th><td>{{.Method}}</td></tr>
<tr><th>Path</th><td>{{.Target}}</td></tr>
</table>
<h2>Headers</h2>
<table>
{{range .Headers}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<p class="note">wsgo shows this page because it runs with --debug. Never use --debug in production.</p>
</body>
</html>
`))

// debugPage renders the --debug page for req and its traceback.
func debugPage(req *wsgi.Request, traceback string) string {
	headers := req.Header
	if req.ContentType != "" {
		headers = append(headers[:len(headers):len(headers)], wsgi.Header{Name: "Content-Type", Value: req.ContentType})
	}
	if req.HasContentLength {
		headers = append(headers[:len(headers):len(headers)], wsgi.Header{Name: "Content-Length", Value: strconv.FormatInt(req.ContentLength, 10)})
	}
	var b strings.Builder
	err := debugTemplate.Execute(&b, struct {
		Summary, Traceback, Method, Target string
		Headers                            []wsgi.Header
	}{lastLine(traceback), traceback, req.Method, req.RequestURI, headers})
	if err != nil { // only a broken writer fails, and a Builder does not
		panic(err)
	}
	return b.String()
}

// lastLine is a traceback's last line: the exception and its message.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
