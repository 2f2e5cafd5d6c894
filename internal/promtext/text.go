package promtext

import (
	"math"
	"net/http"
	"strconv"
)

// contentType is that of the text exposition format 0.0.4.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves the families gather returns, as text.
func Handler(gather func() []Family) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		body := appendText(nil, gather())
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// appendText appends fams in the text format: HELP and TYPE, then the
// samples, of each family that has any; a histogram's as cumulative
// _bucket series (le last, up to +Inf), _sum and _count.
func appendText(b []byte, fams []Family) []byte {
	for _, f := range fams {
		if len(f.Samples) == 0 {
			continue
		}
		b = append(b, "# HELP "...)
		b = append(b, f.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, f.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.Name...)
		b = append(b, ' ')
		b = append(b, f.Type...)
		b = append(b, '\n')
		for _, s := range f.Samples {
			if f.Type != TypeHistogram {
				b = appendSample(b, f.Name, "", s.Labels, "", float64(s.Value))
				continue
			}
			var total uint64
			for i, n := range s.Counts {
				total += n
				le := "+Inf"
				if i < len(f.Bounds) {
					le = string(appendFloat(nil, f.Bounds[i]))
				}
				b = appendSample(b, f.Name, "_bucket", s.Labels, le, float64(total))
			}
			b = appendSample(b, f.Name, "_sum", s.Labels, "", float64(s.Value))
			b = appendSample(b, f.Name, "_count", s.Labels, "", float64(total))
		}
	}
	return b
}

// appendSample appends one line; le, if not empty, is a last label.
func appendSample(b []byte, name, suffix string, labels []Label, le string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(labels) > 0 || le != "" {
		b = append(b, '{')
		for i, l := range labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, l.Name, l.Value)
		}
		if le != "" {
			if len(labels) > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, "le", le)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes s as the format wants: backslash and newline,
// and in a label value the double quote.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat writes v as Prometheus reads it: +Inf, -Inf, NaN, and
// the shortest form that reads back the same, without an exponent for
// the usual magnitudes (a byte count, a timestamp) but with one where
// plain digits would end in zeros that mean nothing.
func appendFloat(b []byte, v float64) []byte {
	switch a := math.Abs(v); {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case a == 0 || a >= 1e-6 && a < 1e15:
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
