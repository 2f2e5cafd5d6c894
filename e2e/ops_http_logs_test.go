package e2e

// SIGUSR1 reopens --access-log and --error-log in the master and every
// worker: logrotate renames the files, and the next lines go to new ones
// at the old paths.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logsWaitCount waits until path holds want lines containing substr.
func logsWaitCount(t *testing.T, path, substr string, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		n := strings.Count(string(b), substr)
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("%s holds %d lines with %q, want %d:\n%s", filepath.Base(path), n, substr, want, b)
		}
	}
}

func TestOpsHTTPLogsReopenOnSIGUSR1(t *testing.T) {
	dir := t.TempDir()
	accessLog, errorLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "error.log")
	addr := "127.0.0.1:" + freePort(t)
	s := launch(t, nil, "-b", addr, "--workers", "2", "--access-log", accessLog, "--error-log", errorLog,
		writeApp(t, "hello.py", opsHelloApp))
	s.URL = "http://" + addr
	logsWaitCount(t, errorLog, ") ready", 2)
	if _, body := s.get("/before"); body != "hello\n" {
		t.Fatalf("/before: %q", body)
	}
	logsWaitCount(t, accessLog, "GET /before ", 1)

	// logrotate without copytruncate: rename, then signal.
	if err := os.Rename(accessLog, accessLog+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(errorLog, errorLog+".1"); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGUSR1)
	logsWaitCount(t, errorLog, "wsgo: SIGUSR1: log files reopened", 1)
	logsWaitCount(t, errorLog, "reopened its log files", 2) // each worker, in the new file
	for range 10 {
		if _, body := s.get("/after"); body != "hello\n" {
			t.Fatalf("/after: %q", body)
		}
	}
	logsWaitCount(t, accessLog, "GET /after ", 10)
	logsWaitCount(t, accessLog+".1", "GET /after ", 0)
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	logsWaitCount(t, errorLog, "wsgo: stopped", 1)
	logsWaitCount(t, errorLog+".1", "reopened", 0)
}

// The reason an import failed goes where --error-log says, as the
// master's line "its error is above" promises; it went to stderr only.
func TestAnImportErrorIsInTheErrorLogFile(t *testing.T) {
	errorLog := filepath.Join(t.TempDir(), "error.log")
	code, _ := cliExit(t, nil, "run", writeApp(t, "broken.py", "import no_such_module_here\n"), "-b", "127.0.0.1:0", "--error-log", errorLog)
	b, _ := os.ReadFile(errorLog)
	if code != 4 || !regexp.MustCompile(`\[ERROR\] wsgo: the app could not be imported\n(.*\n)*ModuleNotFoundError: No module named 'no_such_module_here'\n`).Match(b) {
		t.Errorf("exit %d; %s holds:\n%s", code, filepath.Base(errorLog), b)
	}
}
