package main

// memory is a server's resident memory per process at two moments: idle
// (after its first answer, before any load) and loaded (after the
// measured rounds).
type memory struct{ idle, loaded processMemory }

// processMemory splits a process tree's resident memory between its root,
// when the root supervises other processes (a master), and the largest of
// the others (a worker: for mod_wsgi, its daemon process).
type processMemory struct {
	master int64 // bytes; 0 when the root serves requests itself
	worker int64 // bytes
}

func measureProcessMemory(root int) processMemory {
	var m processMemory
	tree := descendants(root, readAllStats())
	for _, st := range tree {
		rss := processRSS(st.pid)
		switch {
		case st.pid == root && len(tree) > 1:
			m.master = rss
		case rss > m.worker:
			m.worker = rss
		}
	}
	return m
}

// snapshotMemory records l's memory per process, idle or after load, on
// the workloads that check it.
func (b *bench) snapshotMemory(w workload, l *live, loaded bool) {
	if !w.memoryCheck {
		return
	}
	m := b.memory[l.runCase]
	if loaded {
		m.loaded = measureProcessMemory(l.p.pid())
	} else {
		m.idle = measureProcessMemory(l.p.pid())
	}
	b.memory[l.runCase] = m
}
