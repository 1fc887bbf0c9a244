package geom

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// touchedSlow marks every position each window covers and counts them.
func touchedSlow(n, k, s, p, o int) int64 {
	s = max(s, 1)
	seen := make([]bool, n)
	var c int64
	for oy := range o {
		for f := range k {
			if x := oy*s + f - p; x >= 0 && x < n && !seen[x] {
				seen[x] = true
				c++
			}
		}
	}
	return c
}

// TestTouchedExhaustive compares Touched with marking positions one by one over every small
// geometry, degenerate ones (stride 0, more windows than fit, padding beyond the kernel)
// included.
func TestTouchedExhaustive(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for k := 1; k <= 4; k++ {
			for s := 0; s <= 4; s++ {
				for p := 0; p <= 3; p++ {
					for o := 0; o <= 6; o++ {
						if got, want := Touched(n, k, s, p, o), touchedSlow(n, k, s, p, o); got != want {
							t.Fatalf("Touched(%d,%d,%d,%d,%d) = %d, want %d", n, k, s, p, o, got, want)
						}
					}
				}
			}
		}
	}
	assert.EqualValues(t, 28, Touched(56, 1, 2, 0, 28), "1×1 stride-2 projection reads every other row")
}

// TestAdaptiveWindow: the windows cover [0, in) in order; for out dividing in they are the
// plain non-overlapping pools; 2 outputs over 3 inputs share the middle one (PyTorch).
func TestAdaptiveWindow(t *testing.T) {
	for in := 1; in <= 20; in++ {
		for out := 1; out <= 20; out++ {
			s0, _ := AdaptiveWindow(0, in, out)
			_, eN := AdaptiveWindow(out-1, in, out)
			assert.Equal(t, 0, s0)
			assert.Equal(t, in, eN)
			if in%out == 0 {
				for i := range out {
					s, e := AdaptiveWindow(i, in, out)
					assert.Equal(t, [2]int{i * in / out, (i + 1) * in / out}, [2]int{s, e})
				}
			}
		}
	}
	s, e := AdaptiveWindow(1, 3, 2)
	assert.Equal(t, [2]int{1, 3}, [2]int{s, e})
}
