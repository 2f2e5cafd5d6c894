//go:build !linux

package pyhost

import "time"

// threadLoad cannot be measured here: the scheduler takes a thread that
// takes nothing from the queue for stallAfter as blocked.
type threadLoad struct{}

func newThreadLoad() *threadLoad { return nil }

func (l *threadLoad) cpu() time.Duration { return 0 }
func (l *threadLoad) runnable() bool     { return false }
func (l *threadLoad) close()             {}
