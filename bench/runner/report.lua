-- wrk script of bench/runner: optionally POSTs a body of N bytes (the
-- first argument after `--`), and prints one machine-readable summary line.
-- paced.lua adds a delay() hook to this script (see wrk.go).

function init(args)
  pace_ms = tonumber(args[2] or "0")
  local n = tonumber(args[1] or "0")
  if n > 0 then
    wrk.method = "POST"
    wrk.body = string.rep("x", n)
    wrk.headers["Content-Type"] = "application/octet-stream"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wsgobench requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
