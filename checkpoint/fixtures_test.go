package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// wrapPickle turns a pickle of one object into a pickle of the dict {key: object}, keeping
// its memo numbering and frames valid: EMPTY_DICT and the key go in front, SETITEM before
// STOP, and a frame that holds the STOP grows by one byte.
func wrapPickle(pkl []byte, key string) []byte {
	var out []byte
	rest := pkl
	if rest[0] == opProto {
		out, rest = append(out, rest[:2]...), rest[2:]
	}
	out = append(out, opEmptyDict, opBinunicode)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(key)))
	out = append(out, key...)
	body := append([]byte(nil), rest[:len(rest)-1]...) // without STOP
	if body[0] == opFrame {
		n := binary.LittleEndian.Uint64(body[1:])
		if 9+int(n) == len(rest) { // the frame holds everything, STOP included
			binary.LittleEndian.PutUint64(body[1:], n+1)
		}
	}
	out = append(out, body...)
	return append(out, opSetitem, opStop)
}

// wrapFixture rewrites a torch.save file of a single tensor into one of {"t": tensor}.
func wrapFixture(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, zipMagic) {
		// Legacy stream: the object is the fourth pickle.
		off := 0
		for range 3 {
			n, err := scanPickle(data[off:])
			if err != nil {
				t.Fatal(err)
			}
			off += n
		}
		n, err := scanPickle(data[off:])
		if err != nil {
			t.Fatal(err)
		}
		out := append([]byte(nil), data[:off]...)
		out = append(out, wrapPickle(data[off:off+n], "t")...)
		return append(out, data[off+n:]...)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	z := &torchZip{w: &buf}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.HasSuffix(f.Name, "/data.pkl") {
			b = wrapPickle(b, "t")
		}
		z.recordBytes(f.Name, b)
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTorchFixtures loads tensors of every dtype written by real PyTorch, in the zip and the
// legacy format and with pickle protocols 1, 2, 4 and 5.
func TestTorchFixtures(t *testing.T) {
	floats := []float64{1.2, -3.4, 5.6, -7.8}
	ints := []int64{1, -2, 3, -4}
	tests := []struct {
		file   string
		elem   npy.Elem
		legacy bool
		f32    []float32
		i64    []int64
	}{
		{"tensor_float32_proto2_zip.pt", npy.F32, false, f32s(floats), nil},
		{"tensor_float32_proto1_zip.pt", npy.F32, false, f32s(floats), nil},
		{"tensor_float32_proto4_zip.pt", npy.F32, false, f32s(floats), nil},
		{"tensor_float32_proto5_zip.pt", npy.F32, false, f32s(floats), nil},
		{"tensor_float32_proto1.pt", npy.F32, true, f32s(floats), nil},
		{"tensor_float32_proto2.pt", npy.F32, true, f32s(floats), nil},
		{"tensor_int64_proto5.pt", npy.I64, true, nil, ints},
		{"tensor_float64_proto2_zip.pt", npy.F64, false, f32s(floats), nil},
		{"tensor_float16_proto2_zip.pt", npy.F16, false, f32s(floats), nil},
		{"tensor_bfloat16_proto2_zip.pt", npy.BF16, false, f32s(floats), nil},
		{"tensor_int64_proto2_zip.pt", npy.I64, false, nil, ints},
		{"tensor_int32_proto2_zip.pt", npy.I32, false, nil, ints},
		{"tensor_int16_proto2_zip.pt", npy.I16, false, nil, ints},
		{"tensor_int8_proto2_zip.pt", npy.I8, false, nil, ints},
		{"tensor_uint8_proto2_zip.pt", npy.U8, false, nil, []int64{1, 10, 100, 255}},
		{"tensor_bool_proto2_zip.pt", npy.Bool, false, nil, []int64{1, 0, 1, 0}},
	}
	for _, tc := range tests {
		path := filepath.Join("testdata", "gopickle", tc.file)
		// As saved, the file is a bare tensor: the wrong kind of pickle.
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), "pickle of the wrong kind: a single tensor") {
			t.Errorf("%s: bare tensor: %v", tc.file, err)
		}
		data := wrapFixture(t, path)
		sd, info, err := load(tc.file, bytes.NewReader(data), int64(len(data)), Limits{})
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		x, ok := sd.Get("t")
		if !ok || !tensor.SameShape(x.Shape, []int{4}) || info.Legacy != tc.legacy || info.Format != PyTorch {
			t.Errorf("%s: got %v (info %+v)", tc.file, x, info)
			continue
		}
		if conv := info.Converted["t"]; (tc.elem == npy.F32 || tc.elem == npy.I64) != (conv == "") || (conv != "" && conv != tc.elem.String()) {
			t.Errorf("%s: Converted = %v", tc.file, info.Converted)
		}
		for i := range tc.f32 {
			if x.DType != tensor.Float32 || math.Abs(float64(x.F32[i]-tc.f32[i])) > math.Abs(float64(tc.f32[i]))*1e-2 ||
				(tc.elem == npy.F32 || tc.elem == npy.F64) && x.F32[i] != tc.f32[i] {
				t.Errorf("%s: got %v, want %v", tc.file, x.F32, tc.f32)
				break
			}
		}
		for i := range tc.i64 {
			if x.DType != tensor.Int64 || x.I64[i] != tc.i64[i] {
				t.Errorf("%s: got %v, want %v", tc.file, x.I64, tc.i64)
				break
			}
		}
	}
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
