// Package geom holds the window geometry that the IR, the simulator and the memory model
// must agree on, written once: which input positions a strided, padded window touches, and
// PyTorch's adaptive pooling windows.
package geom

// Touched counts the positions in [0, n) covered by o windows of size k and stride s after
// p positions of padding: the input rows (or columns) a convolution or pool actually reads.
// A stride-2 1×1 window touches every other position; windows that overlap or abut touch
// one contiguous range. A stride below 1 counts as 1.
func Touched(n, k, s, p, o int) int64 {
	s = max(s, 1)
	if o <= 0 {
		return 0
	}
	if k >= s { // windows overlap or abut: one range
		lo, hi := max(0, -p), min(n-1, (o-1)*s+k-1-p)
		return int64(max(0, hi-lo+1))
	}
	var c int64
	last := -1
	for oy := range o {
		lo, hi := max(0, oy*s-p, last+1), min(n-1, oy*s+k-1-p)
		if hi >= lo {
			c += int64(hi - lo + 1)
			last = hi
		}
	}
	return c
}

// AdaptiveWindow returns the input range [start, end) that output position i of out pools
// over in PyTorch's adaptive pooling of in positions: floor(i·in/out) to ceil((i+1)·in/out).
func AdaptiveWindow(i, in, out int) (start, end int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}
