package sweep

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestParetoHand checks fronts worked out by hand.
func TestParetoHand(t *testing.T) {
	for _, c := range []struct {
		name string
		pts  [][]float64
		want []bool
	}{
		{"empty", nil, []bool{}},
		{"one", [][]float64{{3, 3}}, []bool{true}},
		// (1,5) (2,2) (5,1) trade off; (3,3) is beaten by (2,2); (2,6) by (1,5).
		{"2d", [][]float64{{3, 3}, {1, 5}, {2, 2}, {5, 1}, {2, 6}}, []bool{false, true, true, true, false}},
		// Equal points dominate neither each other.
		{"ties", [][]float64{{1, 1}, {1, 1}, {1, 2}}, []bool{true, true, false}},
		// Better in one, equal in the other is enough to dominate.
		{"weak", [][]float64{{1, 2}, {1, 3}, {0, 3}}, []bool{true, false, true}},
		{"3d", [][]float64{{1, 1, 9}, {1, 9, 1}, {9, 1, 1}, {2, 2, 9}, {1, 1, 1}}, []bool{false, false, false, false, true}},
		{"3d-trade", [][]float64{{1, 2, 3}, {3, 2, 1}, {2, 2, 2}, {2, 3, 3}}, []bool{true, true, true, false}},
	} {
		assert.Equal(t, c.want, ParetoFront(c.pts), c.name)
	}
}

// TestParetoBruteForce compares the sorted algorithm with the O(n²) definition on random
// sets with many ties.
func TestParetoBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n, k := 1+r.IntN(60), 1+r.IntN(4)
		pts := make([][]float64, n)
		for i := range pts {
			pts[i] = make([]float64, k)
			for j := range pts[i] {
				pts[i][j] = float64(r.IntN(6))
			}
		}
		want := make([]bool, n)
		for i := range pts {
			want[i] = true
			for j := range pts {
				if dominates(pts[j], pts[i]) {
					want[i] = false
				}
			}
		}
		assert.Equal(t, want, ParetoFront(pts), "trial %d", trial)
	}
}
