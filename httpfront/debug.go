package httpfront

import (
	_ "embed"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"

	"wsgo/wsgi"
)

// debugTemplate is the --debug page for an exception raised before the
// response started. html/template escapes every value: the exception,
// the source and the headers hold whatever the app and the client made.
// The page is self-contained (styles inline, no scripts, no other
// requests): it must work offline and when the app serves nothing else.
//
//go:embed debug.html
var debugHTML string

var debugTemplate = template.Must(template.New("debug").Parse(debugHTML))

// page is what debug.html shows.
type page struct {
	Summary, Traceback, Method, Target string
	Headers                            []wsgi.Header
	Exception                          *pageException // nil: the traceback text only
}

// pageException is one exception of the chain, ready for the template.
type pageException struct {
	Type, Message, Note string
	How                 string // for a cause: how the exception above relates to it
	Where               *place // the headline's place: the app's innermost frame
	Syntax              *pageSource
	Frames              []pageFrame
	Causes              []pageException // the top exception's chain, nearest first
}

type place struct {
	Function, File string
	Line           int
}

type pageFrame struct {
	place
	Own      bool
	Code     string // the frame's line, shown while it is folded
	Lines    []pageLine
	Locals   [][2]string
	Repeated int
}

type pageSource struct {
	place
	Lines []pageLine
}

// pageLine is a numbered source line; on the failing line, Marked is the
// failing expression (or a SyntaxError's span) and Caret points at it.
type pageLine struct {
	No                    int
	Before, Marked, After string
	Caret                 string
	Current               bool
}

// debugPage renders the --debug page for req and the app's exception.
func debugPage(req *wsgi.Request, tb wsgi.TracebackError) string {
	headers := req.Header
	if req.ContentType != "" {
		headers = append(headers[:len(headers):len(headers)], wsgi.Header{Name: "Content-Type", Value: req.ContentType})
	}
	if req.HasContentLength {
		headers = append(headers[:len(headers):len(headers)], wsgi.Header{Name: "Content-Length", Value: strconv.FormatInt(req.ContentLength, 10)})
	}
	p := page{Summary: lastLine(tb.Traceback()), Traceback: tb.Traceback(), Method: req.Method, Target: req.RequestURI, Headers: headers}
	if e := tb.Exception(); e != nil {
		top := describe(e)
		for c := e; c.Cause != nil; c = c.Cause {
			cause := describe(c.Cause)
			cause.How = "The exception above was raised while handling this one:"
			if c.CauseExplicit {
				cause.How = "The exception above was raised from this one (raise ... from):"
			}
			top.Causes = append(top.Causes, cause)
		}
		p.Exception, p.Summary = &top, headline(e)
	}
	var b strings.Builder
	if err := debugTemplate.Execute(&b, p); err != nil { // only a broken writer fails, and a Builder does not
		panic(err)
	}
	return b.String()
}

// headline is the exception as Python's last traceback line shows it.
func headline(e *wsgi.Exception) string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

func describe(e *wsgi.Exception) pageException {
	p := pageException{Type: e.Type, Message: e.Message, Note: e.Note}
	for _, f := range e.Frames {
		at := place{f.Function, f.File, f.Line}
		lines := numbered(f.FirstLine, f.Source, f.Line)
		if f.Col != nil && f.EndCol != nil {
			markBytes(lines, f.Line, *f.Col, *f.EndCol)
		}
		p.Frames = append(p.Frames, pageFrame{place: at, Own: f.Own, Code: currentLine(f), Lines: lines, Locals: f.Locals, Repeated: f.Repeated})
	}
	where := -1 // the innermost of the app's frames, else the innermost
	for i, f := range p.Frames {
		if f.Own || where < 0 || !p.Frames[where].Own {
			where = i
		}
	}
	if where >= 0 {
		p.Where = &p.Frames[where].place
	}
	if s := e.Syntax; s != nil {
		first, source := s.FirstLine, s.Source
		if len(source) == 0 && s.Text != "" { // the file is gone: the text Python kept
			first, source = s.Line, []string{s.Text}
		}
		p.Syntax = &pageSource{place: place{File: s.File, Line: s.Line}, Lines: numbered(first, source, s.Line)}
		markSyntax(p.Syntax.Lines, s)
		p.Where = &p.Syntax.place
	}
	return p
}

// currentLine is f's line of source without its indentation, or "".
func currentLine(f wsgi.Frame) string {
	if i := f.Line - f.FirstLine; i >= 0 && i < len(f.Source) {
		return strings.TrimSpace(f.Source[i])
	}
	return ""
}

// numbered numbers source from first, marking line current.
func numbered(first int, source []string, line int) []pageLine {
	lines := make([]pageLine, len(source))
	for i, text := range source {
		lines[i] = pageLine{No: first + i, Before: text, Current: first+i == line}
	}
	return lines
}

// markBytes marks bytes [col, end) of line: Python's columns of the
// failing expression count UTF-8 bytes.
func markBytes(lines []pageLine, line, col, end int) {
	for i := range lines {
		l := &lines[i]
		text := l.Before
		if l.No != line || col < 0 || end <= col || end > len(text) ||
			!utf8.RuneStart(text[col]) || (end < len(text) && !utf8.RuneStart(text[end])) {
			continue
		}
		l.Before, l.Marked, l.After = text[:col], text[col:end], text[end:]
	}
}

// markSyntax marks a SyntaxError's span and puts a caret under it; its
// offsets count characters from 1, and may point just past the line's end.
func markSyntax(lines []pageLine, s *wsgi.Syntax) {
	for i := range lines {
		l := &lines[i]
		if l.No != s.Line || s.Offset < 1 {
			continue
		}
		runes := []rune(l.Before)
		start := min(s.Offset-1, len(runes))
		end := min(max(s.EndOffset-1, start+1), len(runes))
		end = max(end, start)
		l.Before, l.Marked, l.After = string(runes[:start]), string(runes[start:end]), string(runes[end:])
		// Tabs stay tabs so that the caret lines up under them.
		l.Caret = strings.Map(func(r rune) rune {
			if r == '\t' {
				return r
			}
			return ' '
		}, l.Before) + strings.Repeat("^", max(end-start, 1))
	}
}

// lastLine is a traceback's last line: the exception and its message.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
