package logfmt

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

// Text from outside, in a message, an attribute or a traceback, reaches
// the log with its control characters escaped: a client's path could
// otherwise set a terminal's title, clear its screen, or forge a record
// after a carriage return.
func TestTextFromOutsideCannotDriveATerminalNorForgeARecord(t *testing.T) {
	var out bytes.Buffer
	log := NewLogger(&out, slog.LevelInfo)
	hostile := "\x1b]0;PWNED\x07\x1b[2J\rX\u009b31m\xff\x7f"
	forged := "\r[2026-12-07 08:00:00 +0000] [1] [INFO] wsgo: forged"
	log.Info("errors "+hostile+"\nsecond line "+hostile+forged+"\r\nthird line\tkept", "path", "/"+hostile,
		"traceback", "Traceback (most recent call last):\nLookupError: "+hostile+forged+"\n")

	got := out.String()
	want := `\x1b]0;PWNED\x07\x1b[2J\x0dX\u009b31m\xff\x7f`
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 5 || !strings.HasSuffix(lines[0], "errors "+want+` path="/\x1b]0;PWNED\a\x1b[2J\rX\u009b31m\xff\x7f"`) ||
		lines[1] != "second line "+want+`\x0d[2026-12-07 08:00:00 +0000] [1] [INFO] wsgo: forged` ||
		lines[2] != "third line\tkept" || lines[4] != "LookupError: "+want+`\x0d[2026-12-07 08:00:00 +0000] [1] [INFO] wsgo: forged` {
		t.Fatalf("got\n%s", got)
	}
	for i, r := range got {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == utf8.RuneError {
			t.Fatalf("byte %d of the log is %U, which a terminal may act on:\n%q", i, r, got)
		}
	}
	if !utf8.ValidString(got) {
		t.Errorf("the log is not UTF-8: %q", got)
	}
	if n := strings.Count(got, "\n["); n != 0 {
		t.Errorf("%d lines after the first start with '[', as a record does:\n%s", n, got)
	}
	if strings.Count(got, "[INFO]") != 3 { // the record's own, and two quoted
		t.Errorf("got\n%s", got)
	}
}
