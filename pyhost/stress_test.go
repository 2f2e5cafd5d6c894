package pyhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// A hostile case: a request and what must come of it.
type hostileCase struct {
	path    string
	body    string
	timeout time.Duration // 0: none
	leaving bool          // the client goes after the first body write
	check   func(rec *wsgitest.Recorder, err error) error
}

func wantBody(body string) func(*wsgitest.Recorder, error) error {
	return func(rec *wsgitest.Recorder, err error) error {
		var appErr *AppError
		if errors.As(err, &appErr) {
			return fmt.Errorf("the app raised:\n%s", appErr.Report)
		}
		if err != nil || rec.Body.String() != body {
			return fmt.Errorf("err %v, body %q; want %q", err, rec.Body.String(), body)
		}
		return nil
	}
}

func wantAppError(headersSent bool, report string) func(*wsgitest.Recorder, error) error {
	return func(rec *wsgitest.Recorder, err error) error {
		var appErr *AppError
		if !errors.As(err, &appErr) || appErr.HeadersSent != headersSent || !strings.Contains(appErr.Report, report) {
			return fmt.Errorf("err %v; want an AppError (headers sent %v) with %q", err, headersSent, report)
		}
		return nil
	}
}

func wantErr(target error) func(*wsgitest.Recorder, error) error {
	return func(rec *wsgitest.Recorder, err error) error {
		if !errors.Is(err, target) {
			return fmt.Errorf("err %v; want %v", err, target)
		}
		return nil
	}
}

func anyErr(rec *wsgitest.Recorder, err error) error {
	if err == nil {
		return errors.New("no error; want the client's")
	}
	return nil
}

// TestStressHostileApps throws apps that misuse the WSGI API at the host
// from many clients at once: bad exc_info, threads that use their
// request's objects after it ended, close() raising, generators raising
// midway, requests timing out while they stream or read, clients leaving.
// Every request must end as it should and the host go on serving. Run it
// with the race detector: `go test -race -run Stress ./pyhost/`.
func TestStressHostileApps(t *testing.T) {
	cases := []hostileCase{
		{path: "/hello", check: wantBody("Hello, world!")},
		{path: "/input", body: "line one\nabcdefgh\nrest 1\nrest 2\n",
			check: wantBody(`["line one\n", "abc", "defg", ["h\n", "rest 1\n", "rest 2\n"], "", "", ""]`)},
		{path: "/hostile/late-exc-info/none", check: wantBody("head;TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (None, None, None)")},
		{path: "/hostile/late-exc-info/int", check: func(rec *wsgitest.Recorder, err error) error {
			if err != nil || !strings.HasPrefix(rec.Body.String(), "head;TypeError: start_response: exc_info must be") {
				return fmt.Errorf("err %v, body %q", err, rec.Body.String())
			}
			return nil
		}},
		{path: "/hostile/late-exc-info/real", check: wantAppError(true, "ValueError: the real error")},
		{path: "/hostile/late-thread/stress", body: "body", check: wantBody("response")},
		{path: "/hostile/partial-lines/stress", check: wantBody("ok")},
		{path: "/hostile/close-raises/", check: wantBody("closing")},
		{path: "/tracked-fail", check: wantAppError(true, "RuntimeError: failed mid-body")},
		{path: "/raise", check: wantAppError(false, "LookupError: raised before start_response")},
		{path: "/slow-stream", timeout: 30 * time.Millisecond, check: wantErr(wsgi.ErrTimeout)},
		{path: "/hostile/read-on/", body: strings.Repeat("x", 1000), timeout: 20 * time.Millisecond, check: func(rec *wsgitest.Recorder, err error) error {
			if err != nil && !errors.Is(err, wsgi.ErrTimeout) {
				return fmt.Errorf("err %v; want none or a timeout", err)
			}
			return nil
		}},
		{path: "/stream/10,70000,70000", leaving: true, check: anyErr},
	}
	const clients, perClient = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients*perClient)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				tc := cases[(c*perClient+i)%len(cases)]
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if tc.timeout > 0 {
					ctx, cancel = context.WithTimeoutCause(ctx, tc.timeout, wsgi.ErrTimeout)
				}
				var rec *wsgitest.Recorder
				var err error
				if tc.leaving {
					l := &leavingRecorder{}
					err = host.ServeWSGI(ctx, request(tc.path, tc.body), l)
					rec = &l.Recorder
				} else {
					rec = &wsgitest.Recorder{}
					err = host.ServeWSGI(ctx, request(tc.path, tc.body), rec)
				}
				cancel()
				if cerr := tc.check(rec, err); cerr != nil {
					errs <- fmt.Errorf("%s: %w", tc.path, cerr)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "the host to serve again", func() bool {
		rec, err := serve(t, request("/hello", ""))
		return err == nil && rec.Body.String() == "Hello, world!"
	})
}
