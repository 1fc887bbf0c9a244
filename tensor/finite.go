package tensor

import (
	"fmt"
	"math"
	"strings"
)

// FirstNonFinite returns the flat index of t's first NaN or ±Inf element, or -1 if every
// element is finite (integer tensors always are).
func (t *Tensor) FirstNonFinite() int {
	for i, v := range t.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// NonFiniteError reports a NaN or infinity in a tensor read from a file.
type NonFiniteError struct {
	Name  string  // the tensor's key in its file, or "" for a lone array
	Index []int   // the element's multi-index
	Value float32 // NaN, +Inf or -Inf
	Count int     // non-finite elements in the tensor
}

// Error formats the problem: `tensor "k" holds NaN at [0 3 1 1] (and 4 more non-finite values)`.
func (e *NonFiniteError) Error() string {
	var b strings.Builder
	if e.Name != "" {
		fmt.Fprintf(&b, "tensor %q holds ", e.Name)
	} else {
		b.WriteString("array holds ")
	}
	fmt.Fprintf(&b, "%v at %v", e.Value, e.Index)
	if e.Count > 1 {
		fmt.Fprintf(&b, " (and %d more non-finite values)", e.Count-1)
	}
	return b.String()
}

// CheckFinite returns a *NonFiniteError for t's first NaN or infinity, nil if there is none.
// name is the tensor's key, for the message.
func (t *Tensor) CheckFinite(name string) error {
	i := t.FirstNonFinite()
	if i < 0 {
		return nil
	}
	n := 0
	for _, v := range t.F32[i:] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			n++
		}
	}
	idx := make([]int, len(t.Shape))
	for d, rem := len(t.Shape)-1, i; d >= 0; d-- {
		idx[d] = rem % t.Shape[d]
		rem /= t.Shape[d]
	}
	return &NonFiniteError{Name: name, Index: idx, Value: t.F32[i], Count: n}
}
