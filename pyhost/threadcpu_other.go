//go:build !linux

package pyhost

import "time"

// threadCPU cannot be measured here: the scheduler takes a thread that
// takes nothing from the queue for stallAfter as blocked.
type threadCPU struct{}

func newThreadCPU() *threadCPU { return nil }

func (l *threadCPU) cpu() time.Duration { return 0 }
func (l *threadCPU) runnable() bool     { return false }
func (l *threadCPU) close()             {}
