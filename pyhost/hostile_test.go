package pyhost

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of apps that misuse the WSGI API (issue 12): none may crash or
// wedge the host, and the app is told what it did wrong.

// start_response(status, headers, exc_info) after the headers went out
// re-raises exc_info (PEP 3333); an exc_info that holds no exception is
// refused with a TypeError in the app's frame.
func TestLateExcInfoWithoutAnExceptionIsATypeError(t *testing.T) {
	for kind, want := range map[string]string{
		"none":  "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (None, None, None)",
		"int":   "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (<class 'int'>, 1, None)",
		"short": "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (<class 'ValueError'>,)",
	} {
		rec, err := serve(t, request("/hostile/late-exc-info/"+kind, ""))
		if err != nil || rec.Body.String() != "head;"+want {
			t.Errorf("%s: err %v, body %q\nwant %q", kind, err, rec.Body.String(), "head;"+want)
		}
	}
	rec, err := serve(t, request("/hello", ""))
	if err != nil || rec.Body.String() != "Hello, world!" {
		t.Fatalf("the host no longer serves: %v %q", err, rec.Body.String())
	}
}

func TestLateExcInfoReRaisesTheAppsException(t *testing.T) {
	rec, err := serve(t, request("/hostile/late-exc-info/real", ""))
	var appErr *AppError
	if !errors.As(err, &appErr) || !appErr.HeadersSent || rec.Body.String() != "head;" {
		t.Fatalf("err %v, body %q", err, rec.Body.String())
	}
	for _, want := range []string{"hostile.py", `raise ValueError("the real error")`, "ValueError: the real error"} {
		if !strings.Contains(appErr.Report, want) {
			t.Errorf("report lacks %q:\n%s", want, appErr.Report)
		}
	}
}

// A traceback naming a file whose path is not UTF-8 (a directory in
// another encoding) is still a failed load, reported with the path's
// bytes as they are; it once passed for a success.
func TestLoadErrorInANonUTF8DirectoryIsReported(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caf\xe9")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"raise_app.py", "raise_helper.py"} {
		src, err := os.ReadFile(filepath.Join("testdata", "broken", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := loadInChildIn(t, dir, "raise_app.py")
	for _, want := range []string{"NameError: name 'undefined_name' is not defined", "caf\xe9/raise_helper.py"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
