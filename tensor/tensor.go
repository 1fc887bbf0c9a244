// Package tensor holds the dense, row-major (C order) float32 tensor that every other vggsim
// package passes around: weights, activations (NCHW), and checkpoint entries.
//
// A Tensor is a shape plus a flat slice. Data has exactly Numel(Shape) elements. Int64 tensors
// (PyTorch's num_batches_tracked) are carried in I64 with DType Int64; everything else is
// float32 in F32.
package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// DType is the element type of a Tensor.
type DType uint8

// The element types a Tensor can hold.
const (
	Float32 DType = iota
	Int64
)

// String returns the NumPy-style name of d ("float32", "int64").
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Tensor is a dense, row-major tensor. For DType Float32 the elements are in F32, for Int64
// in I64; the other slice is nil. A 0-d tensor has an empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
}

// New returns a zero float32 tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), F32: make([]float32, Numel(shape))}
}

// FromF32 wraps data (not copied) as a float32 tensor of the given shape. It panics if the
// lengths disagree, which is a programming error.
func FromF32(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor.FromF32: %d elements for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), F32: data}
}

// FromI64 wraps data (not copied) as an int64 tensor of the given shape. Like FromF32, it
// panics if the lengths disagree.
func FromI64(data []int64, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor.FromI64: %d elements for shape %v", len(data), shape))
	}
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I64: data}
}

// Numel returns the number of elements of a tensor with the given shape (1 for a 0-d shape).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len returns the number of elements of t.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	if t.F32 != nil {
		c.F32 = append([]float32(nil), t.F32...)
	}
	if t.I64 != nil {
		c.I64 = append([]int64(nil), t.I64...)
	}
	return c
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// ShapeString formats a shape as "8x3x3x3" ("scalar" for a 0-d shape).
func ShapeString(shape []int) string {
	if len(shape) == 0 {
		return "scalar"
	}
	var b strings.Builder
	for i, d := range shape {
		if i > 0 {
			b.WriteByte('x')
		}
		fmt.Fprint(&b, d)
	}
	return b.String()
}

// String returns a short description: dtype and shape.
func (t *Tensor) String() string {
	return fmt.Sprintf("%s[%s]", t.DType, ShapeString(t.Shape))
}
