package analytics

import (
	"math"
	"slices"
)

// Stats summarise durations in seconds.
type Stats struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
	Mean  *float64 `json:"mean"`
}

// Summarize is the count, median, 90th percentile and mean of secs
// (percentiles interpolated between the nearest ranks, as Postgres's
// percentile_cont). Without values the figures are null, not zero.
func Summarize(secs []float64) Stats {
	s := Stats{Count: len(secs)}
	if len(secs) == 0 {
		return s
	}
	sorted := slices.Clone(secs)
	slices.Sort(sorted)
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	p50, p90, mean := Percentile(sorted, 0.5), Percentile(sorted, 0.9), round(sum/float64(len(sorted)))
	s.P50, s.P90, s.Mean = &p50, &p90, &mean
	return s
}

// Percentile of sorted values (0 ≤ q ≤ 1), interpolated linearly.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return round(sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo)))
}

func round(v float64) float64 { return math.Round(v*10) / 10 }

// DistributionBands are the first-response bands, in order.
var DistributionBands = []string{"0-5m", "5-15m", "15-60m", "1-4h", ">4h"}

// Distribution counts secs per band; each band holds its lower bound.
func Distribution(secs []float64) map[string]int {
	out := make(map[string]int, len(DistributionBands))
	for _, b := range DistributionBands {
		out[b] = 0
	}
	for _, v := range secs {
		switch {
		case v < 5*60:
			out["0-5m"]++
		case v < 15*60:
			out["5-15m"]++
		case v < 60*60:
			out["15-60m"]++
		case v < 4*60*60:
			out["1-4h"]++
		default:
			out[">4h"]++
		}
	}
	return out
}
