package checkpoint

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/tensor"
)

// golden returns the path of a file in the golden tiny_repvgg case, failing the test if
// the reference data is not there.
func golden(t testing.TB, name string) string {
	t.Helper()
	p := tinygolden.Path(name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("golden data (testdata/golden): %v", err)
	}
	return p
}

// sameBits reports whether a and b have the same dtype, the same number of elements and
// bit-identical data. Shapes are compared by the caller.
func sameBits(a, b *tensor.Tensor) bool {
	if a.DType != b.DType || len(a.F32) != len(b.F32) || len(a.I64) != len(b.I64) {
		return false
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	for i := range a.I64 {
		if a.I64[i] != b.I64[i] {
			return false
		}
	}
	return true
}

// equalSD reports the first difference between two state dicts, or "".
func equalSD(a, b *StateDict) string {
	if strings.Join(a.Keys, "\n") != strings.Join(b.Keys, "\n") {
		return "keys differ: " + strings.Join(a.Keys, ",") + " vs " + strings.Join(b.Keys, ",")
	}
	for _, k := range a.Keys {
		x, y := a.Tensors[k], b.Tensors[k]
		if !tensor.SameShape(x.Shape, y.Shape) || !sameBits(x, y) {
			return k + ": " + x.String() + " vs " + y.String()
		}
	}
	return ""
}

// TestGoldenPTH loads both golden checkpoints written by torch 1.13 and checks every tensor
// bit for bit against the golden .npy dumps of the same state dicts.
func TestGoldenPTH(t *testing.T) {
	for _, tc := range []struct {
		file   string
		deploy bool
	}{
		{tinygolden.TrainPTH, false},
		{tinygolden.DeployPTH, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sd, info, err := LoadWithInfo(golden(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != PyTorch || info.Legacy || info.Wrapper != "" || info.Prefix != "" || len(info.Converted) != 0 {
				t.Errorf("info = %+v", info)
			}
			keys, want := tinygolden.StateDict(t, tc.deploy)
			if strings.Join(sd.Keys, " ") != strings.Join(keys, " ") {
				t.Errorf("keys %v, want the reference order %v", sd.Keys, keys)
			}
			if sd.Len() != len(want) {
				t.Errorf("%d tensors, golden has %d", sd.Len(), len(want))
			}
			for _, k := range sd.Keys {
				got, w := sd.Tensors[k], want[k]
				if w == nil {
					t.Errorf("unexpected key %q", k)
					continue
				}
				shape := w.Shape
				if strings.HasSuffix(k, "num_batches_tracked") {
					// 0-d in PyTorch; the golden .npy stores it with shape [1].
					if got.DType != tensor.Int64 || len(got.Shape) != 0 {
						t.Errorf("%s: %v, want a 0-d int64", k, got)
					}
					shape = nil
				}
				if !tensor.SameShape(got.Shape, shape) || !sameBits(got, w) {
					t.Errorf("%s: got %v, golden %v (or data differs)", k, got, w)
				}
			}
		})
	}
}
