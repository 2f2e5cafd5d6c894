package e2e

import (
	"strings"
	"testing"
)

// A pod limited to 3 CPUs on a larger node: Go reads the limit into
// GOMAXPROCS (here set as the variable, which it takes first), and
// --workers auto follows it rather than the node's CPU count.
func TestOpsWorkersAutoFollowsTheCPULimit(t *testing.T) {
	app := writeApp(t, "hello.py", opsHelloApp)
	s := start(t, []string{"GOMAXPROCS=3"}, app, "--workers", "auto")
	if !strings.Contains(s.logs.String(), ", 3 workers, ") {
		t.Errorf("--workers auto with GOMAXPROCS=3 did not start 3 workers; output:\n%s", s.logs.String())
	}
}
