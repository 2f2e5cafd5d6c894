package promtext

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// small is a registry of every kind, with a label value and a help text
// that need escaping.
func small() *Registry {
	r := NewRegistry()
	r.Counter("b_total", "A counter.").Add(3)
	v := r.CounterVec("a_total", `By "code", with a \ and a`+"\nnewline.", "code", "2xx")
	v.With("5xx").Inc()
	v.With("x\"y\\z\nw").Add(2)
	g := r.Gauge("c", "A gauge.")
	g.Inc()
	g.Inc()
	g.Dec()
	h := r.Histogram("d_seconds", "A histogram.", []float64{.0005, 1, 2.5})
	for _, o := range []float64{.0001, .5, 1, 3} {
		h.Observe(o)
	}
	r.Collect(func() []Family {
		return []Family{
			GaugeFamily("e", "Floats.", 1796426405.04, Label{"k", "big"}),
			GaugeFamily("e", "Floats.", 18446744073709551615, Label{"k", "max"}),
			GaugeFamily("e", "Floats.", math.Inf(1), Label{"k", "inf"}),
			GaugeFamily("e", "Floats.", 1e-7, Label{"k", "tiny"}),
		}
	})
	return r
}

const smallText = `# HELP a_total By "code", with a \\ and a\nnewline.
# TYPE a_total counter
a_total{code="2xx"} 0
a_total{code="5xx"} 1
a_total{code="x\"y\\z\nw"} 2
# HELP b_total A counter.
# TYPE b_total counter
b_total 3
# HELP c A gauge.
# TYPE c gauge
c 1
# HELP d_seconds A histogram.
# TYPE d_seconds histogram
d_seconds_bucket{le="0.0005"} 1
d_seconds_bucket{le="1"} 3
d_seconds_bucket{le="2.5"} 3
d_seconds_bucket{le="+Inf"} 4
d_seconds_sum 4.5001
d_seconds_count 4
# HELP e Floats.
# TYPE e gauge
e{k="big"} 1796426405.04
e{k="inf"} +Inf
e{k="max"} 1.8446744073709552e+19
e{k="tiny"} 1e-07
`

func TestText(t *testing.T) {
	if got := string(appendText(nil, small().Gather())); got != smallText {
		t.Errorf("got\n%s\nwant\n%s", got, smallText)
	}
}

// TestTextParses reads the text back with Prometheus' own parser.
func TestTextParses(t *testing.T) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(smallText))
	if err != nil {
		t.Fatal(err)
	}
	a := fams["a_total"].GetMetric()
	if len(a) != 3 || a[2].GetLabel()[0].GetValue() != "x\"y\\z\nw" || a[2].GetCounter().GetValue() != 2 {
		t.Errorf("a_total: %v", a)
	}
	if got := fams["a_total"].GetHelp(); got != `By "code", with a \ and a`+"\nnewline." {
		t.Errorf("a_total's help: %q", got)
	}
	h := fams["d_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 4 || h.GetSampleSum() != 4.5001 || len(h.GetBucket()) != 4 || h.GetBucket()[1].GetCumulativeCount() != 3 {
		t.Errorf("d_seconds: %v", h)
	}
	for _, m := range fams["e"].GetMetric() {
		want := map[string]float64{"big": 1796426405.04, "inf": math.Inf(1), "max": 18446744073709551615, "tiny": 1e-7}[m.GetLabel()[0].GetValue()]
		if got := m.GetGauge().GetValue(); got != want {
			t.Errorf("e%v = %v, want %v", m.GetLabel(), got, want)
		}
	}
}

// TestWorkersMerge sends two workers' metrics as JSON and shows them
// with the master's, as the master does.
func TestWorkersMerge(t *testing.T) {
	var fams []Family
	for _, w := range []string{"2", "1"} {
		r := NewRegistry()
		r.CounterVec("req_total", "Requests.", "code", "2xx").With("2xx").Add(uint64(len(w) * 5))
		r.Histogram("lat", "Latency.", []float64{1}).Observe(.5)
		r.Collect(func() []Family { return []Family{GaugeFamily("g", "Inf.", math.Inf(-1))} })
		data, err := Encode(r.Gather())
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(data, Label{"worker", w})
		if err != nil {
			t.Fatal(err)
		}
		fams = append(fams, got...)
	}
	own := NewRegistry()
	own.Counter("req_total", "Requests.").Inc()
	own.Collect(func() []Family { return []Family{GaugeFamily("lat", "Not a histogram.", 1)} })
	want := `# HELP g Inf.
# TYPE g gauge
g{worker="1"} -Inf
g{worker="2"} -Inf
# HELP lat Latency.
# TYPE lat histogram
lat_bucket{worker="1",le="1"} 1
lat_bucket{worker="1",le="+Inf"} 1
lat_sum{worker="1"} 0.5
lat_count{worker="1"} 1
lat_bucket{worker="2",le="1"} 1
lat_bucket{worker="2",le="+Inf"} 1
lat_sum{worker="2"} 0.5
lat_count{worker="2"} 1
# HELP req_total Requests.
# TYPE req_total counter
req_total 1
req_total{code="2xx",worker="1"} 5
req_total{code="2xx",worker="2"} 5
`
	// The workers' lat comes first: the master's, another type, is dropped.
	if got := string(appendText(nil, Merge(append(fams, own.Gather()...)))); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeRefusesWhatWouldNotParse(t *testing.T) {
	for name, data := range map[string]string{
		"not JSON":      `{`,
		"bad name":      `[{"name":"a-b","type":"gauge","samples":[]}]`,
		"bad type":      `[{"name":"a","type":"summary","samples":[]}]`,
		"bad label":     `[{"name":"a","type":"gauge","samples":[{"labels":[{"n":"a:b","v":""}],"value":1}]}]`,
		"labels order":  `[{"name":"a","type":"gauge","samples":[{"labels":[{"n":"b","v":""},{"n":"a","v":""}],"value":1}]}]`,
		"has worker":    `[{"name":"a","type":"gauge","samples":[{"labels":[{"n":"worker","v":"9"}],"value":1}]}]`,
		"bucket counts": `[{"name":"a","type":"histogram","bounds":[1],"samples":[{"value":1,"counts":[1]}]}]`,
		"bounds order":  `[{"name":"a","type":"histogram","bounds":[2,1],"samples":[]}]`,
		"bad value":     `[{"name":"a","type":"gauge","samples":[{"value":"x"}]}]`,
	} {
		if _, err := Decode([]byte(data), Label{"worker", "1"}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	r := NewRegistry()
	h := r.Histogram("h", "H.", []float64{1, 2})
	c := r.CounterVec("c", "C.", "code", "2xx").With("2xx")
	if n := testing.AllocsPerRun(100, func() { h.Observe(1.5); c.Inc() }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestProcessMetrics(t *testing.T) {
	r := NewRegistry()
	r.ProcessMetrics()
	got := map[string]Family{}
	for _, f := range r.Gather() {
		got[f.Name] = f
	}
	value := func(name string) float64 { return float64(got[name].Samples[0].Value) }
	for _, name := range []string{"process_cpu_seconds_total", "process_network_receive_bytes_total", "process_network_transmit_bytes_total"} {
		if got[name].Type != TypeCounter {
			t.Errorf("%s: %+v, want a counter", name, got[name])
		}
	}
	for _, name := range []string{"process_open_fds", "process_max_fds", "process_virtual_memory_bytes",
		"process_virtual_memory_max_bytes", "process_resident_memory_bytes", "process_start_time_seconds"} {
		if got[name].Type != TypeGauge || value(name) <= 0 {
			t.Errorf("%s: %+v, want a gauge above 0", name, got[name])
		}
	}
	if rss := value("process_resident_memory_bytes"); rss < 1<<20 || rss > 1<<34 {
		t.Errorf("resident memory %v bytes", rss)
	}
	if start := value("process_start_time_seconds"); math.Abs(start-float64(time.Now().Unix())) > 3600 {
		t.Errorf("started at %v, now is %v", start, time.Now().Unix())
	}
}
