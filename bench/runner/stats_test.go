package main

import "testing"

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want spread
	}{
		{nil, spread{}},
		{[]float64{7}, spread{7, 7, 7}},
		{[]float64{3, 1, 2}, spread{2, 1, 3}},
		{[]float64{4, 1, 3, 2}, spread{2.5, 1, 4}},
		{[]float64{5, 5, 1, 9, 5}, spread{5, 1, 9}},
	} {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestSummarizeLeavesItsInputAlone(t *testing.T) {
	in := []float64{3, 1, 2}
	summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Fatalf("summarize sorted its input: %v", in)
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.00", 0.456: "0.46", 12.34: "12.3", 123.4: "123", 61341.4: "61,341", 1234567: "1,234,567", -4321: "-4,321",
	} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
