package memory

import (
	"cmp"
	"slices"
)

// planArena assigns every buffer an offset in one arena so that buffers whose lifetimes
// overlap never overlap in space, and returns the arena size. The heuristic is TFLite's
// greedy-by-size: buffers in decreasing size (ties: earlier Start, then lower ID), each
// placed in the smallest gap between already placed, time-overlapping buffers that holds
// it (best fit), or on top of the highest one. Sizes and offsets are rounded up to align.
//
// The result is at least the peak working set (a lower bound for any placement) and at most
// the sum of all buffer sizes (each buffer placed on top of all the others).
func planArena(bufs []Buffer, align int64) int64 {
	order := make([]int, len(bufs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := &bufs[a], &bufs[b]
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Start, y.Start), cmp.Compare(x.ID, y.ID))
	})
	up := func(v int64) int64 { return (v + align - 1) / align * align }
	type span struct{ lo, hi int64 }
	var placed []int
	var arena int64
	var spans []span
	for _, id := range order {
		b := &bufs[id]
		size := up(b.Bytes)
		spans = spans[:0]
		for _, p := range placed {
			q := &bufs[p]
			if q.Start <= b.End && b.Start <= q.End {
				spans = append(spans, span{q.Offset, q.Offset + up(q.Bytes)})
			}
		}
		slices.SortFunc(spans, func(a, b span) int { return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi)) })
		best, bestGap := int64(-1), int64(-1)
		var cursor int64
		for _, s := range spans {
			if gap := s.lo - cursor; gap >= size && (bestGap < 0 || gap < bestGap) {
				best, bestGap = cursor, gap
			}
			cursor = max(cursor, s.hi)
		}
		if best < 0 {
			best = cursor
		}
		b.Offset = best
		arena = max(arena, best+size)
		placed = append(placed, id)
	}
	return arena
}

// PlanArena assigns every buffer an Offset with the planner Analyze uses (greedy by size,
// best fit; sizes and offsets rounded up to align ≥ 1) and returns the arena size. It is
// for callers whose buffer sizes differ from Analyze's (codegen stores activations in
// padded layouts and adds reorder temporaries) but whose lifetimes come from it.
func PlanArena(bufs []Buffer, align int64) int64 { return planArena(bufs, max(align, 1)) }
