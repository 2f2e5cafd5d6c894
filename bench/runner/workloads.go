package main

import "slices"

const mib = 1 << 20

// workload is one app and the load wrk puts on it.
type workload struct {
	name  string // the -workload value and the report's section
	title string
	app   string // module in bench/apps
	path  string
	// connections wrk keeps open, for a process count and the -threads value.
	connections func(procs, threads int) int
	postBytes   int    // request body wrk sends (POST); 0 for GET
	header      string // a request header wrk adds to every request, or ""
	payload     int    // body bytes moved per request, for MB/s; 0: no MB/s column
	ceiling     bool   // the bare Go server runs it too
	idle        bool   // the runner holds -idle keep-alive connections open during the run
	// threadCheck: wsgo also runs with 1 thread, against the -threads figure.
	threadCheck bool
	memoryCheck bool // each server's memory per process is recorded, idle and after the rounds
}

func fixed(n int) func(int, int) int { return func(int, int) int { return n } }

// perThread keeps every thread of every process busy.
func perThread(procs, threads int) int { return procs * threads }

var workloads = []workload{
	{name: "hello", title: "hello world", app: "hello", path: "/",
		connections: fixed(50), ceiling: true, threadCheck: true, memoryCheck: true},
	{name: "flask", title: "Flask JSON endpoint", app: "flask_json", path: "/",
		connections: fixed(50), threadCheck: true},
	{name: "django", title: "Django view rendering a template", app: "django_template", path: "/",
		connections: fixed(50), threadCheck: true},
	{name: "stream", title: "16 MiB streamed by a generator (256 chunks of 64 KiB)", app: "stream16m", path: "/",
		connections: fixed(8), payload: 16 * mib},
	{name: "post", title: "1 MiB POST body read whole", app: "post1m", path: "/",
		connections: fixed(16), postBytes: mib, payload: mib},
	{name: "file", title: "8 MiB file through wsgi.file_wrapper (ceiling: Go's http.ServeContent)", app: "file8m", path: "/file",
		connections: fixed(8), payload: 8 * mib, ceiling: true},
	{name: "sleep50", title: "50 ms sleep (I/O bound: threads matter)", app: "sleep50", path: "/",
		connections: perThread, threadCheck: true},
	{name: "idle", title: "hello world while idle keep-alive connections are held open", app: "hello", path: "/",
		connections: fixed(50), idle: true},
	// nginx's proxy_pass speaks HTTP/1.0 to its upstream unless told
	// otherwise: a new connection for every request.
	{name: "close", title: "hello world, a new connection per request (Connection: close, as behind nginx's default proxy_pass)",
		app: "hello", path: "/", connections: fixed(50), header: "Connection: close"},
}

func workloadNamed(name string) workload {
	return workloads[slices.IndexFunc(workloads, func(w workload) bool { return w.name == name })]
}
