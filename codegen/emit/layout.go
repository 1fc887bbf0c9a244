package emit

import (
	"fmt"

	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/ir"
)

// Layout is how one image's C×H×W activation is stored. The zero Layout is NCHW (plain,
// channel-major); Blocked(b) is NCHW{b}c: channel blocks of b lanes, element (c, y, x) at
// ((c/b·H + y)·W + x)·b + c%b, with C rounded up to a multiple of b (padding lanes hold
// zeros). For H = W = 1 every layout stores the channels in order.
type Layout struct {
	Block int // channel block; 0 or 1 means NCHW
}

// NCHW is the plain layout.
var NCHW = Layout{}

// Blocked returns the NCHW{b}c layout.
func Blocked(b int) Layout {
	if b <= 1 {
		return NCHW
	}
	return Layout{Block: b}
}

// Plain reports whether l is NCHW.
func (l Layout) Plain() bool { return l.Block <= 1 }

// String returns "nchw" or "nchw16c".
func (l Layout) String() string {
	if l.Plain() {
		return "nchw"
	}
	return fmt.Sprintf("nchw%dc", l.Block)
}

// Channels returns s.C rounded up to the layout's block.
func (l Layout) Channels(s ir.Shape) int {
	if l.Plain() {
		return s.C
	}
	return (s.C + l.Block - 1) / l.Block * l.Block
}

// Elems returns the floats one image of shape s takes in l (padding lanes included).
func (l Layout) Elems(s ir.Shape) int { return l.Channels(s) * s.H * s.W }

// Same reports whether a reader expecting m finds shape s where l stores it: equal
// layouts, or a 1×1 map that m stores unpadded (every layout stores a 1×1 map's channels
// in order, padding lanes after them).
func (l Layout) Same(m Layout, s ir.Shape) bool {
	return l == m || (l.Plain() && m.Plain()) || (s.H == 1 && s.W == 1 && m.Channels(s) == s.C)
}

// OffsetConst returns the float offset of element (c, y, x) of shape s in l.
func (l Layout) OffsetConst(s ir.Shape, c, y, x int) int64 {
	if l.Plain() {
		return (int64(c)*int64(s.H)+int64(y))*int64(s.W) + int64(x)
	}
	b := int64(l.Block)
	return ((int64(c)/b*int64(s.H)+int64(y))*int64(s.W)+int64(x))*b + int64(c)%b
}

// Offset emits the float offset (i64) of element (c, y, x) of shape s in l; c, y, x are
// i64 values.
func (l Layout) Offset(f *Func, s ir.Shape, c, y, x value.Value) value.Value {
	if l.Plain() {
		return f.Add(f.Mul(f.Add(f.Mul(c, f.I64(s.H)), y), f.I64(s.W)), x)
	}
	b := f.I64(l.Block)
	cb := f.B.NewUDiv(c, b)
	cl := f.B.NewURem(c, b)
	return f.Add(f.Mul(f.Add(f.Mul(f.Add(f.Mul(cb, f.I64(s.H)), y), f.I64(s.W)), x), b), cl)
}
