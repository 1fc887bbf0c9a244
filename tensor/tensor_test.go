package tensor

import "testing"

func TestNewAndNumel(t *testing.T) {
	x := New(2, 3, 4)
	if x.DType != Float32 || len(x.F32) != 24 || x.I64 != nil || x.Len() != 24 {
		t.Fatalf("New(2,3,4) = %v with %d floats", x, len(x.F32))
	}
	for _, c := range []struct {
		shape []int
		n     int
	}{{nil, 1}, {[]int{}, 1}, {[]int{0}, 0}, {[]int{5}, 5}, {[]int{2, 0, 3}, 0}, {[]int{8, 3, 3, 3}, 216}} {
		if got := Numel(c.shape); got != c.n {
			t.Errorf("Numel(%v) = %d, want %d", c.shape, got, c.n)
		}
	}
	// The shape is copied: changing the caller's slice does not change the tensor.
	s := []int{2, 2}
	y := New(s...)
	s[0] = 9
	if y.Shape[0] != 2 {
		t.Error("New kept the caller's shape slice")
	}
}

func TestFromAndClone(t *testing.T) {
	data := []float32{1, 2, 3, 4, 5, 6}
	x := FromF32(data, 2, 3)
	data[0] = 10 // FromF32 wraps, it does not copy
	if x.F32[0] != 10 {
		t.Error("FromF32 copied its data")
	}
	c := x.Clone()
	c.F32[1] = -1
	c.Shape[0] = 7
	if x.F32[1] != 2 || x.Shape[0] != 2 {
		t.Error("Clone shares data or shape with the original")
	}
	i := FromI64([]int64{42})
	if i.DType != Int64 || len(i.Shape) != 0 || i.Len() != 1 || i.String() != "int64[scalar]" {
		t.Errorf("0-d int64: %v %v", i, i.Shape)
	}
	if ci := i.Clone(); ci.I64[0] != 42 || ci.F32 != nil || ci.DType != Int64 {
		t.Errorf("Clone of int64: %+v", ci)
	}
	for _, f := range []func(){
		func() { FromF32([]float32{1, 2, 3}, 2, 2) },
		func() { FromI64([]int64{1}, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("length mismatch did not panic")
				}
			}()
			f()
		}()
	}
}

func TestShapeHelpers(t *testing.T) {
	if !SameShape([]int{1, 2}, []int{1, 2}) || SameShape([]int{1, 2}, []int{2, 1}) ||
		SameShape([]int{1}, []int{1, 1}) || !SameShape(nil, []int{}) {
		t.Error("SameShape")
	}
	for shape, want := range map[string][]int{"scalar": nil, "8": {8}, "8x3x3x3": {8, 3, 3, 3}} {
		if got := ShapeString(want); got != shape {
			t.Errorf("ShapeString(%v) = %q, want %q", want, got, shape)
		}
	}
	if s := New(10, 32).String(); s != "float32[10x32]" {
		t.Errorf("String = %q", s)
	}
	if Float32.String() != "float32" || Int64.String() != "int64" || DType(7).String() != "DType(7)" {
		t.Error("DType.String")
	}
}
