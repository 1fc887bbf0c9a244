package sweep

import (
	"cmp"
	"slices"
)

// ParetoFront returns, for points given as objective vectors to minimize (negate the ones
// to maximize), whether each point is on the Pareto front: no other point is at least as
// good in every objective and better in one. Equal points are all on the front or all off.
// It sorts the points lexicographically, so that every dominator of a point comes before
// it, and tests each point against the front found so far: O(n log n + n·|front|).
func ParetoFront(pts [][]float64) []bool {
	order := make([]int, len(pts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		for k := range pts[a] {
			if c := cmp.Compare(pts[a][k], pts[b][k]); c != 0 {
				return c
			}
		}
		return 0
	})
	on := make([]bool, len(pts))
	var front []int
	for _, i := range order {
		dominated := false
		for _, f := range front {
			if dominates(pts[f], pts[i]) {
				dominated = true
				break
			}
		}
		if !dominated {
			on[i] = true
			front = append(front, i)
		}
	}
	return on
}

// dominates reports whether a is no worse than b everywhere and better somewhere.
func dominates(a, b []float64) bool {
	better := false
	for k := range a {
		if a[k] > b[k] {
			return false
		}
		if a[k] < b[k] {
			better = true
		}
	}
	return better
}
