#!/usr/bin/env bash
# The thread-pool benchmark of issue 3, with wrk on loopback:
#  - hello world: the default thread count against 1 thread (no GIL hand-off collapse);
#  - a 50 ms sleep: 16 threads against 1 (I/O-bound work scales with threads).
# Rounds are interleaved; medians and ratios are printed.
# Usage: bench/threads.sh [ROUNDS] [SECONDS]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
bin=${WSGO:-./wsgo}
[ -x "$bin" ] || { echo "build first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }

port=18700
run() { # app threads connections -> prints requests/s
  local app=$1 threads=$2 conns=$3 log
  port=$((port + 1))
  log=$(mktemp)
  "$bin" run "bench/apps/$app" --bind "127.0.0.1:$port" --threads "$threads" --log-level warning >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
  wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}'
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A results
cases=("hello.py 1 50" "hello.py 16 50" "sleep50.py 1 16" "sleep50.py 16 16")
for r in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    results[$c]+="$(run $c) "
  done
  echo "round $r/$rounds done" >&2
done

printf '%-28s %12s   %s\n' "case (app threads conns)" "median req/s" "all rounds"
for c in "${cases[@]}"; do
  m=$(echo ${results[$c]} | tr ' ' '\n' | median)
  results[$c.median]=$m
  printf '%-28s %12.0f   %s\n' "$c" "$m" "${results[$c]}"
done
awk -v a="${results[hello.py 16 50.median]}" -v b="${results[hello.py 1 50.median]}" \
  'BEGIN {printf "hello world, 16 threads / 1 thread:   %.2f\n", a / b}'
awk -v a="${results[sleep50.py 16 16.median]}" -v b="${results[sleep50.py 1 16.median]}" \
  'BEGIN {printf "sleep 50 ms, 16 threads / 1 thread:   %.2f\n", a / b}'
