// Package suggest finds the names a user probably meant, for "did you mean" hints in errors.
package suggest

import (
	"slices"
	"strings"
)

// Distance returns the Levenshtein distance between a and b, counted in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Nearest returns the candidates that look like what name was meant to be, best first: those
// within a small edit distance, and those that contain name or are contained in it.
func Nearest(name string, candidates []string) []string {
	type scored struct {
		s    string
		dist int
	}
	lname := strings.ToLower(name)
	limit := max(2, len(name)/3)
	var hits []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := Distance(lname, lc)
		if d <= limit || (len(lname) >= 2 && (strings.Contains(lc, lname) || strings.Contains(lname, lc))) {
			hits = append(hits, scored{c, d})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return a.dist - b.dist })
	out := make([]string, 0, min(len(hits), 3))
	for _, h := range hits[:min(len(hits), 3)] {
		out = append(out, h.s)
	}
	return out
}

// DidYouMean formats suggestions as " (did you mean a or b?)", or "" when there are none.
func DidYouMean(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + names[0] + "?)"
	}
	return " (did you mean " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + "?)"
}
