package main

import (
	"bufio"
	"cmp"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the run happened.
type machine struct {
	cpus   int
	model  string
	kernel string
	memory string
	// congestion is TCP's congestion control: loopback results hang on it
	// (BBR paces 64 KiB writes into stalls; docs/PERFORMANCE.md).
	congestion string
	loadBefore string
	versions   [][2]string // name, version
}

// peerPython is the Python of Debian's gunicorn, uWSGI plugin and waitress.
const peerPython = "/usr/bin/python3"

func readMachine(b *bench) machine {
	m := machine{model: "unknown", kernel: firstLine(readFile("/proc/sys/kernel/osrelease")), loadBefore: loadAverage(),
		congestion: cmp.Or(firstLine(readFile("/proc/sys/net/ipv4/tcp_congestion_control")), "unknown")}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			switch strings.TrimSpace(k) {
			case "processor":
				m.cpus++
			case "model name":
				m.model = strings.TrimSpace(v)
			}
		}
		f.Close()
	}
	for _, line := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB")); err == nil {
				m.memory = strconv.Itoa(kb/1024/1024) + " GiB"
			}
		}
	}
	pyVersion := func(pkg string) string {
		return firstLine(output(peerPython, "-c", "import importlib.metadata as m; print(m.version('"+pkg+"'))"))
	}
	m.versions = [][2]string{
		{"wsgo", strings.ReplaceAll(output(b.wsgoPath, "version"), "\n", ", ")},
		{"Go (runner, ceiling)", strings.TrimPrefix(runtime.Version(), "go")},
		{"Python (peers)", strings.TrimPrefix(firstLine(output(peerPython, "--version")), "Python ")},
		{"gunicorn", strings.Trim(strings.TrimPrefix(firstLine(output("gunicorn", "--version")), "gunicorn (version "), ")")},
		{"uWSGI", firstLine(output("uwsgi", "--version"))},
		{"waitress", pyVersion("waitress")},
		{"wrk", strings.TrimPrefix(strings.SplitN(firstLine(output("wrk", "-v")), " Copyright", 2)[0], "wrk ")},
		{"Flask", pyVersion("flask")},
		{"Django", pyVersion("django")},
	}
	return m
}

// output is what a command prints, or "not found"; wrk -v exits 1 after
// printing, so the status is ignored.
func output(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if s == "" {
		return "not found"
	}
	return s
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// loadAverage is the 1, 5 and 15 minute load: other work on the machine
// skews the figures.
func loadAverage() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
