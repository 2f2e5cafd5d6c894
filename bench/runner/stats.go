package main

import "slices"

// spread is the median and range of one figure over the rounds.
type spread struct{ median, min, max float64 }

// summarize returns the median (the mean of the middle two for an even
// count) and the range of xs; the zero spread for none.
func summarize(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{median: m, min: s[0], max: s[n-1]}
}
