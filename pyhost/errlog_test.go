package pyhost

import (
	"log/slog"
	"testing"
)

func TestAppTextLevel(t *testing.T) {
	for text, want := range map[string]slog.Level{
		"Traceback (most recent call last):\n  File \"app.py\", line 1\nZeroDivisionError: x":                  slog.LevelError,
		"[2026-12-04 18:00:00,123] ERROR in app: Exception on /boom [GET]\nTraceback (most recent call last):": slog.LevelError,
		"[2026-12-04 18:00:00,123] CRITICAL in app: down":                                                      slog.LevelError,
		"ERROR:root:failed": slog.LevelError,
		"CRITICAL:db:gone":  slog.LevelError,
		"somewhere: Traceback (most recent call last):":  slog.LevelWarn,
		"[2026-12-04 18:00:00,123] WARNING in app: slow": slog.LevelWarn,
		"ERRORS: none today":                             slog.LevelWarn,
		"hello errors":                                   slog.LevelWarn,
		"the word ERROR later":                           slog.LevelWarn,
	} {
		if got := appTextLevel(text); got != want {
			t.Errorf("appTextLevel(%q) = %v; want %v", text, got, want)
		}
	}
}
