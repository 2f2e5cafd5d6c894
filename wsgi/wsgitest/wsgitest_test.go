package wsgitest

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"wsgo/wsgi"
)

func TestRecorderRecordsAResponse(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("0123456789")

	app := FuncApp(func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		header := []wsgi.Header{{Name: "X", Value: "1"}}
		if err := w.Start(201, "Made", header, -1); err != nil {
			return err
		}
		header[0].Value = "changed after Start"
		for _, step := range []func() error{
			func() error { return w.Write([]byte("<")) },
			w.Flush,
			func() error { return w.SendFile(f, 2, 3) },
			func() error { return w.SendFile(f, 8, -1) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	var rec Recorder
	if err := app.ServeWSGI(context.Background(), &wsgi.Request{}, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != 201 || rec.Reason != "Made" || rec.BodyLen != -1 || rec.Flushes != 1 {
		t.Errorf("got %d %q bodyLen %d flushes %d", rec.Status, rec.Reason, rec.BodyLen, rec.Flushes)
	}
	if want := []wsgi.Header{{Name: "X", Value: "1"}}; !reflect.DeepEqual(rec.Header, want) {
		t.Errorf("header %v, want %v", rec.Header, want)
	}
	if got := rec.Body.String(); got != "<23489" {
		t.Errorf("body %q", got)
	}
	want := []SendFileCall{{Name: f.Name(), Off: 2, N: 3}, {Name: f.Name(), Off: 8, N: -1}}
	if !reflect.DeepEqual(rec.SendFiles, want) {
		t.Errorf("sendfiles %v, want %v", rec.SendFiles, want)
	}
}

func TestRecorderRefusesMisuse(t *testing.T) {
	var rec Recorder
	if err := rec.Write([]byte("x")); err == nil {
		t.Error("Write before Start accepted")
	}
	rec.Start(200, "OK", nil, 0)
	if err := rec.Start(200, "OK", nil, 0); err == nil {
		t.Error("second Start accepted")
	}
	gone := Recorder{Err: context.Canceled}
	if err := gone.Start(200, "OK", nil, 0); err != context.Canceled {
		t.Errorf("Start with Err set = %v", err)
	}
}
