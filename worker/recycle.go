package worker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wsgo/handoff"
	"wsgo/wsgi"
)

// rssCheckEvery spaces the checks of --max-rss: reading /proc costs a few
// microseconds, too much for every request of a fast app.
const rssCheckEvery = time.Second

// recycler counts a worker's requests and watches its memory, and asks
// once for the worker's replacement when --max-requests or --max-rss is
// reached. The worker serves on until the replacement is ready.
type recycler struct {
	wsgi.App
	limit     int64 // requests; 0: none
	maxRSS    int64 // bytes; 0: none
	served    atomic.Int64
	lastCheck atomic.Int64 // unix nanoseconds of the last RSS check
	asked     sync.Once
	ask       func(why handoff.Why, reason string)
}

func newRecycler(app wsgi.App, maxRequests, jitter, maxRSSMiB int, ask func(handoff.Why, string)) wsgi.App {
	if maxRequests == 0 && maxRSSMiB == 0 {
		return app
	}
	r := &recycler{App: app, maxRSS: int64(maxRSSMiB) << 20, ask: ask}
	if maxRequests > 0 {
		r.limit = int64(maxRequests + rand.IntN(jitter+1))
	}
	return r
}

func (r *recycler) ServeWSGI(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	err := r.App.ServeWSGI(ctx, req, w)
	if n := r.served.Add(1); r.limit > 0 && n == r.limit {
		r.recycle(handoff.WhyMaxRequests, fmt.Sprintf("it has served %d requests (--max-requests)", n))
	}
	if r.maxRSS > 0 {
		now, last := time.Now().UnixNano(), r.lastCheck.Load()
		if now-last >= int64(rssCheckEvery) && r.lastCheck.CompareAndSwap(last, now) {
			if rss := currentRSS(); rss > r.maxRSS {
				r.recycle(handoff.WhyMaxRSS, fmt.Sprintf("its memory has grown to %d MiB (--max-rss %d)", rss>>20, r.maxRSS>>20))
			}
		}
	}
	return err
}

func (r *recycler) recycle(why handoff.Why, reason string) {
	r.asked.Do(func() { r.ask(why, reason) })
}

// currentRSS is this process's resident memory in bytes, or 0 if unknown.
func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
