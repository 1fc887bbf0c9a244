package tensor

import (
	"math"
	"testing"
)

func TestCheckFinite(t *testing.T) {
	x := FromF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if x.FirstNonFinite() != -1 || x.CheckFinite("w") != nil {
		t.Fatal("finite tensor reported")
	}
	x.F32[4] = float32(math.NaN())
	x.F32[5] = float32(math.Inf(-1))
	if got := x.FirstNonFinite(); got != 4 {
		t.Errorf("FirstNonFinite = %d, want 4", got)
	}
	if got, want := x.CheckFinite("a.weight").Error(), `tensor "a.weight" holds NaN at [1 1] (and 1 more non-finite values)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	y := FromF32([]float32{0, float32(math.Inf(1))}, 2)
	if got, want := y.CheckFinite("").Error(), "array holds +Inf at [1]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if FromI64([]int64{1}, 1).CheckFinite("n") != nil {
		t.Error("int tensor reported")
	}
}
