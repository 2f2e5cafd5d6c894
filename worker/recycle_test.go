package worker

import (
	"context"
	"testing"

	"wsgo/handoff"
	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

func TestRecyclerAsksOnceWhenMaxRequestsIsReached(t *testing.T) {
	var asked []handoff.Why
	served := 0
	app := wsgitest.FuncApp(func(context.Context, *wsgi.Request, wsgi.Responder) error { served++; return nil })
	r := newRecycler(app, 3, 0, 0, func(why handoff.Why, _ string) { asked = append(asked, why) })
	for i := 0; i < 5; i++ {
		r.ServeWSGI(context.Background(), &wsgi.Request{}, nil)
		if want := i >= 2; (len(asked) > 0) != want {
			t.Fatalf("after %d requests asked=%v", i+1, asked)
		}
	}
	if served != 5 || len(asked) != 1 || asked[0] != handoff.WhyMaxRequests {
		t.Errorf("served %d, asked %v; want 5 served (it serves on until replaced) and one WhyMaxRequests", served, asked)
	}
}

func TestRecyclerIsNotThereWithoutLimits(t *testing.T) {
	app := wsgitest.FuncApp(func(context.Context, *wsgi.Request, wsgi.Responder) error { return nil })
	if r := newRecycler(app, 0, 10, 0, nil); r == nil {
		t.Fatal("nil app")
	} else if _, wrapped := r.(*recycler); wrapped {
		t.Error("without --max-requests and --max-rss the app is wrapped for nothing")
	}
}

func TestRecyclerAsksWhenRSSIsOverTheLimit(t *testing.T) {
	var asked []handoff.Why
	app := wsgitest.FuncApp(func(context.Context, *wsgi.Request, wsgi.Responder) error { return nil })
	// 1 MiB: any Go test process is larger.
	r := newRecycler(app, 0, 0, 1, func(why handoff.Why, _ string) { asked = append(asked, why) })
	r.ServeWSGI(context.Background(), &wsgi.Request{}, nil)
	r.ServeWSGI(context.Background(), &wsgi.Request{}, nil)
	if len(asked) != 1 || asked[0] != handoff.WhyMaxRSS {
		t.Errorf("asked %v; want one WhyMaxRSS", asked)
	}
}
