// Package promtext is what wsgo needs of Prometheus, and no more:
// counters, gauges and a histogram kept in atomics, the process_*
// metrics, a worker's metrics sent to the master as JSON, and the text
// exposition format 0.0.4 that the master serves. It replaces the
// Prometheus client libraries, whose code (with protobuf) made the
// binary, and so every process's resident memory, about 4 MB larger.
package promtext

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Type is a family's type, as the TYPE line names it.
type Type string

const (
	TypeCounter   Type = "counter"
	TypeGauge     Type = "gauge"
	TypeHistogram Type = "histogram"
)

// Family is the samples of one metric at one moment: what a Registry
// gathers, a worker sends and the text shows.
type Family struct {
	Name    string    `json:"name"`
	Help    string    `json:"help"`
	Type    Type      `json:"type"`
	Bounds  []float64 `json:"bounds,omitempty"` // a histogram's upper bounds; +Inf is implied
	Samples []Sample  `json:"samples"`
}

// Sample is one series of a family.
type Sample struct {
	Labels []Label `json:"labels,omitempty"` // sorted by name
	Value  Float   `json:"value"`            // a histogram's: the sum of its observations
	// A histogram's observations by bucket, not cumulative: one per
	// bound, and the last for those over every bound.
	Counts []uint64 `json:"counts,omitempty"`
}

// Label is a label pair.
type Label struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// Float is a sample's value; in JSON, ±Inf and NaN (which JSON numbers
// cannot be) are strings.
type Float float64

func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.AppendQuote(nil, string(appendFloat(nil, v))), nil
	}
	return appendFloat(nil, v), nil
}

func (f *Float) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	v, err := strconv.ParseFloat(s, 64)
	*f = Float(v)
	return err
}

// Registry holds the metrics of one process.
type Registry struct {
	mu         sync.Mutex
	collectors []func() []Family
}

func NewRegistry() *Registry { return &Registry{} }

// Collect adds fn, called at each Gather for families read at that
// moment.
func (r *Registry) Collect(fn func() []Family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, fn)
}

// Gather reads every metric, merged and sorted as Merge does.
func (r *Registry) Gather() []Family {
	r.mu.Lock()
	defer r.mu.Unlock()
	var fams []Family
	for _, c := range r.collectors {
		fams = append(fams, c()...)
	}
	return Merge(fams)
}

// GaugeFamily is a gauge family of one sample.
func GaugeFamily(name, help string, v float64, labels ...Label) Family {
	return single(name, help, TypeGauge, v, labels)
}

func single(name, help string, t Type, v float64, labels []Label) Family {
	labels = slices.Clone(labels)
	slices.SortFunc(labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return Family{Name: name, Help: help, Type: t, Samples: []Sample{{Labels: labels, Value: Float(v)}}}
}

// Counter counts up.
type Counter struct{ n atomic.Uint64 }

func (c *Counter) Inc()          { c.n.Add(1) }
func (c *Counter) Add(n uint64)  { c.n.Add(n) }
func (c *Counter) Value() uint64 { return c.n.Load() }

// Counter registers a counter.
func (r *Registry) Counter(name, help string) *Counter {
	c := &Counter{}
	r.Collect(func() []Family { return []Family{single(name, help, TypeCounter, float64(c.Value()), nil)} })
	return c
}

// CounterVec is counters told apart by the value of one label.
type CounterVec struct {
	mu      sync.Mutex
	byValue map[string]*Counter
}

// With is the counter of a label value, made at its first use.
func (v *CounterVec) With(value string) *Counter {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.byValue[value]
	if c == nil {
		c = &Counter{}
		v.byValue[value] = c
	}
	return c
}

// CounterVec registers counters by label; those of values are shown
// from the start, at 0.
func (r *Registry) CounterVec(name, help, label string, values ...string) *CounterVec {
	v := &CounterVec{byValue: map[string]*Counter{}}
	for _, value := range values {
		v.With(value)
	}
	r.Collect(func() []Family {
		v.mu.Lock()
		defer v.mu.Unlock()
		f := Family{Name: name, Help: help, Type: TypeCounter}
		for value, c := range v.byValue {
			f.Samples = append(f.Samples, Sample{Labels: []Label{{label, value}}, Value: Float(c.Value())})
		}
		return []Family{f}
	})
	return v
}

// Gauge goes up and down by one.
type Gauge struct{ n atomic.Int64 }

func (g *Gauge) Inc()         { g.n.Add(1) }
func (g *Gauge) Dec()         { g.n.Add(-1) }
func (g *Gauge) Value() int64 { return g.n.Load() }

// Gauge registers a gauge.
func (r *Registry) Gauge(name, help string) *Gauge {
	g := &Gauge{}
	r.Collect(func() []Family { return []Family{GaugeFamily(name, help, float64(g.Value()))} })
	return g
}

// Histogram counts observations by bucket. A scrape during an Observe may
// see its bucket counted and its sum not yet; the count is always the
// buckets' total.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // as Sample.Counts
	sum    atomic.Uint64   // float64 bits
}

// Observe adds v: two atomic operations (the sum's can retry), no
// allocation.
func (h *Histogram) Observe(v float64) {
	h.counts[sort.SearchFloat64s(h.bounds, v)].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Histogram registers a histogram with the upper bounds given, in
// increasing order.
func (r *Registry) Histogram(name, help string, bounds []float64) *Histogram {
	h := &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
	r.Collect(func() []Family {
		s := Sample{Value: Float(math.Float64frombits(h.sum.Load())), Counts: make([]uint64, len(h.counts))}
		for i := range h.counts {
			s.Counts[i] = h.counts[i].Load()
		}
		return []Family{{Name: name, Help: help, Type: TypeHistogram, Bounds: bounds, Samples: []Sample{s}}}
	})
	return h
}

// Merge joins the families of the same name into one and sorts families
// by name and samples by labels. A family of the same name as an earlier
// one but another type or buckets is dropped: shown together, the two
// would not parse. The slices of fams may be reordered.
func Merge(fams []Family) []Family {
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	var out []Family
	for _, f := range fams {
		if n := len(out); n > 0 && out[n-1].Name == f.Name {
			if last := &out[n-1]; last.Type == f.Type && slices.Equal(last.Bounds, f.Bounds) {
				last.Samples = append(last.Samples[:len(last.Samples):len(last.Samples)], f.Samples...)
			}
			continue
		}
		out = append(out, f)
	}
	for _, f := range out {
		slices.SortStableFunc(f.Samples, func(a, b Sample) int { return compareLabels(a.Labels, b.Labels) })
	}
	return out
}

func compareLabels(a, b []Label) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Encode is families as a worker sends them to the master.
func Encode(fams []Family) ([]byte, error) { return json.Marshal(fams) }

// Decode reads what Encode wrote, checks that it will make valid text,
// and adds the label add to every sample.
func Decode(data []byte, add Label) ([]Family, error) {
	var fams []Family
	if err := json.Unmarshal(data, &fams); err != nil {
		return nil, err
	}
	for _, f := range fams {
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("%q: %w", f.Name, err)
		}
		for i := range f.Samples {
			s := &f.Samples[i]
			at, found := slices.BinarySearchFunc(s.Labels, add.Name, func(l Label, name string) int { return strings.Compare(l.Name, name) })
			if found {
				return nil, fmt.Errorf("%q: a sample has a label %s already", f.Name, add.Name)
			}
			s.Labels = slices.Insert(s.Labels, at, add)
		}
	}
	return fams, nil
}

// check tells what in f would break the text.
func (f *Family) check() error {
	if !validName(f.Name, true) {
		return fmt.Errorf("not a metric name")
	}
	switch f.Type {
	case TypeCounter, TypeGauge:
		if len(f.Bounds) > 0 {
			return fmt.Errorf("a %s with buckets", f.Type)
		}
	case TypeHistogram:
		for i, b := range f.Bounds {
			if math.IsNaN(b) || math.IsInf(b, 1) || i > 0 && f.Bounds[i-1] >= b {
				return fmt.Errorf("buckets not increasing, or +Inf given")
			}
		}
	default:
		return fmt.Errorf("type %q", f.Type)
	}
	for _, s := range f.Samples {
		if f.Type == TypeHistogram && len(s.Counts) != len(f.Bounds)+1 || f.Type != TypeHistogram && len(s.Counts) > 0 {
			return fmt.Errorf("%d bucket counts for %d buckets", len(s.Counts), len(f.Bounds))
		}
		for i, l := range s.Labels {
			if !validName(l.Name, false) || i > 0 && s.Labels[i-1].Name >= l.Name {
				return fmt.Errorf("labels not sorted, repeated or misnamed")
			}
		}
	}
	return nil
}

// validName: [a-zA-Z_:][a-zA-Z0-9_:]* for a metric, without ':' for a
// label.
func validName(s string, metric bool) bool {
	for i, c := range []byte(s) {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':' && metric || c >= '0' && c <= '9' && i > 0
		if !ok {
			return false
		}
	}
	return s != ""
}
