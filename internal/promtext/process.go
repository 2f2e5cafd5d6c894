package promtext

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ProcessMetrics registers the process_* metrics that Prometheus' Go
// client shows on Linux, under the same names, types and meanings, read
// from /proc at each scrape. One that cannot be read is left out.
func (r *Registry) ProcessMetrics() { r.Collect(processFamilies) }

// userHZ is the unit of the times in /proc/self/stat (USER_HZ, 100 on
// Linux whatever the kernel's tick).
const userHZ = 100

func processFamilies() []Family {
	var fams []Family
	gauge := func(name, help string, v float64) { fams = append(fams, GaugeFamily(name, help, v)) }
	counter := func(name, help string, v float64) { fams = append(fams, single(name, help, TypeCounter, v, nil)) }
	if st, err := readStat(); err == nil {
		counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", float64(st.utime+st.stime)/userHZ)
		gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", float64(st.vsize))
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(st.rss*uint64(os.Getpagesize())))
		if boot, err := bootTime(); err == nil {
			gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", boot+float64(st.start)/userHZ)
		}
	}
	if fd, err := os.Open("/proc/self/fd"); err == nil {
		names, err := fd.Readdirnames(-1)
		fd.Close()
		if err == nil {
			gauge("process_open_fds", "Number of open file descriptors.", float64(len(names)))
		}
	}
	var files, space syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &files) == nil && syscall.Getrlimit(syscall.RLIMIT_AS, &space) == nil {
		gauge("process_max_fds", "Maximum number of open file descriptors.", float64(files.Cur))
		gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", float64(space.Cur))
	}
	if in, out, err := readIPOctets(); err == nil {
		counter("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", in)
		counter("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", out)
	}
	return fams
}

type stat struct{ utime, stime, start, vsize, rss uint64 }

// readStat reads the fields of /proc/self/stat it needs (proc(5)).
func readStat() (stat, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return stat{}, err
	}
	// The command (field 2) may hold spaces and ')': fields 3 on follow the last ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 22 {
		return stat{}, errors.New("/proc/self/stat: too few fields")
	}
	var st stat
	for _, f := range []struct {
		to *uint64
		n  int // field number in proc(5)
	}{{&st.utime, 14}, {&st.stime, 15}, {&st.start, 22}, {&st.vsize, 23}, {&st.rss, 24}} {
		if *f.to, err = strconv.ParseUint(fields[f.n-3], 10, 64); err != nil {
			return stat{}, err
		}
	}
	return st, nil
}

// bootTime is the btime of /proc/stat: when the system booted, in
// seconds since the epoch.
var bootTime = sync.OnceValues(func() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("/proc/stat has no btime")
})

// readIPOctets reads the IP bytes received and sent of the process's
// network namespace (InOctets and OutOctets of IpExt in
// /proc/self/net/netstat), as the client library does; 0 when absent.
func readIPOctets() (in, out float64, err error) {
	data, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	// Lines come in pairs: "IpExt: Name1 Name2 ..." then "IpExt: 1 2 ...".
	var names []string
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "IpExt:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i := 1; i < len(fields) && i < len(names); i++ {
			switch names[i] {
			case "InOctets":
				in, _ = strconv.ParseFloat(fields[i], 64)
			case "OutOctets":
				out, _ = strconv.ParseFloat(fields[i], 64)
			}
		}
		break
	}
	return in, out, nil
}
