package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/tensor"
)

// goldenDir is the reference data of the official RepVGG code (testdata/golden).
var goldenDir = testref.Golden()

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*", "*.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("golden data not found at %s", goldenDir)
	}
	return files
}

// TestGoldenRoundTrip reads every golden .npy file and checks that writing it back gives
// the same bytes, which also pins the header layout to numpy.save's.
func TestGoldenRoundTrip(t *testing.T) {
	for _, path := range goldenFiles(t) {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		x, err := ReadFile(path)
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, x); err != nil {
			t.Fatalf("%s: Write: %v", path, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: rewritten file differs from the original\n got %q\nwant %q",
				path, head(buf.Bytes()), head(want))
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 128)] }

// npyBytes builds a .npy file with a hand-written header dict and raw data.
func npyBytes(major byte, dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	}
	b.WriteString(dict)
	b.Write(data)
	return b.Bytes()
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestReadDTypes(t *testing.T) {
	be := func(vals ...any) []byte {
		var b bytes.Buffer
		for _, v := range vals {
			binary.Write(&b, binary.BigEndian, v)
		}
		return b.Bytes()
	}
	tests := []struct {
		descr string
		data  []byte
		f32   []float32
		i64   []int64
	}{
		{"<f4", le(float32(1.5), float32(-2)), []float32{1.5, -2}, nil},
		{">f4", be(float32(1.5), float32(-2)), []float32{1.5, -2}, nil},
		{"<f8", le(0.1, -3.0), []float32{float32(0.1), -3}, nil},
		{"<f2", le(uint16(0x3c00), uint16(0xc000)), []float32{1, -2}, nil},
		{"<i8", le(int64(-5), int64(1<<40)), nil, []int64{-5, 1 << 40}},
		{"<i4", le(int32(-7), int32(9)), nil, []int64{-7, 9}},
		{"<i2", le(int16(-7), int16(9)), nil, []int64{-7, 9}},
		{"|i1", []byte{0xff, 3}, nil, []int64{-1, 3}},
		{"|u1", []byte{255, 3}, nil, []int64{255, 3}},
		{"<u2", le(uint16(65535), uint16(1)), nil, []int64{65535, 1}},
		{"<u4", le(uint32(1<<32-1), uint32(1)), nil, []int64{1<<32 - 1, 1}},
		{"<u8", le(uint64(7), uint64(1)), nil, []int64{7, 1}},
		{"|b1", []byte{1, 0}, nil, []int64{1, 0}},
		{">i8", be(int64(-5), int64(6)), nil, []int64{-5, 6}},
	}
	for _, tc := range tests {
		dict := "{'descr': '" + tc.descr + "', 'fortran_order': False, 'shape': (2,), }\n"
		x, err := Read(bytes.NewReader(npyBytes(1, dict, tc.data)))
		if err != nil {
			t.Errorf("%s: %v", tc.descr, err)
			continue
		}
		if !tensor.SameShape(x.Shape, []int{2}) {
			t.Errorf("%s: shape %v", tc.descr, x.Shape)
		}
		if tc.f32 != nil && (x.DType != tensor.Float32 || !equalF32(x.F32, tc.f32)) {
			t.Errorf("%s: got %v %v, want %v", tc.descr, x.DType, x.F32, tc.f32)
		}
		if tc.i64 != nil && (x.DType != tensor.Int64 || !slices.Equal(x.I64, tc.i64)) {
			t.Errorf("%s: got %v %v, want %v", tc.descr, x.DType, x.I64, tc.i64)
		}
	}
}

// sameTensor reports whether a and b have the same dtype and shape and bit-identical data.
func sameTensor(a, b *tensor.Tensor) bool {
	return a.DType == b.DType && tensor.SameShape(a.Shape, b.Shape) &&
		equalF32(a.F32, b.F32) && slices.Equal(a.I64, b.I64)
}

// equalF32 reports whether a and b hold the same float32 bit patterns.
func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0001, float32(math.Ldexp(1, -24))}, // smallest subnormal
		{0x03ff, float32(1023 * math.Ldexp(1, -24))}, // largest subnormal
		{0x0400, float32(math.Ldexp(1, -14))},        // smallest normal
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tc := range tests {
		if got := HalfToFloat32(tc.h); got != tc.want {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if got := HalfToFloat32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("HalfToFloat32(-0) = %#x bits", math.Float32bits(got))
	}
	if got := HalfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("HalfToFloat32(NaN) = %v", got)
	}
}

func TestZeroDAndEmpty(t *testing.T) {
	for _, x := range []*tensor.Tensor{
		tensor.FromI64([]int64{42}),
		tensor.FromF32([]float32{}, 0, 3),
		tensor.FromF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
	} {
		var buf bytes.Buffer
		if err := Write(&buf, x); err != nil {
			t.Fatal(err)
		}
		if hdr := int64(buf.Len()) - NumBytes(x); hdr%64 != 0 {
			t.Errorf("%v: header of %d bytes is not 64-byte aligned", x, hdr)
		}
		y, err := Read(&buf)
		if err != nil {
			t.Fatalf("%v: %v", x, err)
		}
		if !sameTensor(x, y) {
			t.Errorf("round trip: got %v %v %v, want %v", y, y.F32, y.I64, x)
		}
	}
	dict := "{'descr': '<i8', 'fortran_order': False, 'shape': (), }"
	y, err := Read(bytes.NewReader(npyBytes(1, dict, le(int64(7)))))
	if err != nil || len(y.Shape) != 0 || y.I64[0] != 7 {
		t.Errorf("0-d read: %v %v", y, err)
	}
}

func TestVersions(t *testing.T) {
	dict := "{'shape': (2L, 1L), 'fortran_order': False, 'descr': '<f4'}"
	for _, major := range []byte{2, 3} {
		x, err := Read(bytes.NewReader(npyBytes(major, dict, le(float32(1), float32(2)))))
		if err != nil {
			t.Fatalf("v%d: %v", major, err)
		}
		if !tensor.SameShape(x.Shape, []int{2, 1}) || x.F32[1] != 2 {
			t.Errorf("v%d: got %v %v", major, x, x.F32)
		}
	}
}

func TestReadErrors(t *testing.T) {
	ok := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"magic", []byte("PK\x03\x04 not npy at all"), "not a .npy file"},
		{"short header", []byte(magic + "\x01\x00\x50"), "truncated header"},
		{"header cut", npyBytes(1, ok, nil)[:30], "truncated header"},
		{"version", npyBytes(4, ok, nil), "unsupported .npy format version 4.0"},
		{"fortran", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", le(float32(1), float32(2))), "fortran_order"},
		{"dtype", npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", nil), "unsupported dtype \"<c8\""},
		{"object", npyBytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", nil), "unsupported dtype"},
		{"structured", npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", nil), "structured"},
		{"missing key", npyBytes(1, "{'descr': '<f4', 'shape': (2,), }", nil), "missing key \"fortran_order\""},
		{"extra key", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", nil), "unexpected key"},
		{"not tuple", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", nil), "parenthesized"},
		{"negative", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", nil), "non-negative"},
		{"overflow", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", nil), "too large"},
		{"huge product", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", nil), "too many elements"},
		{"huge claim", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", le(float32(1))), "data truncated"},
		{"truncated data", npyBytes(1, ok, le(float32(1))), "data truncated: float32[2] needs 8 bytes, 4 present"},
		{"trailing", npyBytes(1, ok+" x", nil), "trailing text"},
		{"u64 overflow", npyBytes(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", le(uint64(1<<63))), "does not fit in int64"},
		{"header too large", []byte(magic + "\x02\x00\xff\xff\xff\x7f"), "too large"},
	}
	for _, tc := range tests {
		_, err := Read(bytes.NewReader(tc.data))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *FormatError: %v", tc.name, err, err)
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q does not contain %q on one line", tc.name, err, tc.want)
		}
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFile(filepath.Join(dir, "missing.npy"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || err.Error() != filepath.Join(dir, "missing.npy")+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.npy")
	os.WriteFile(bad, npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", le(float32(1))), 0o644)
	_, err = ReadFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+": data truncated") {
		t.Errorf("truncated file: %v", err)
	}
	_, err = ReadFile(dir)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	x := tensor.FromF32([]float32{1, 2, 3}, 3)
	if err := WriteFile(path, x); err != nil {
		t.Fatal(err)
	}
	y, err := ReadFile(path)
	if err != nil || !equalF32(y.F32, x.F32) {
		t.Fatalf("got %v %v", y, err)
	}
	bad := &tensor.Tensor{Shape: []int{4}, F32: []float32{1}}
	if err := WriteFile(path, bad); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("inconsistent tensor: %v", err)
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir.npy"), x); err == nil {
		t.Error("unwritable path: no error")
	}
}

func TestNPZRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	names := []string{"stage0.rbr_reparam.weight", "n", "scalar"}
	m := map[string]*tensor.Tensor{
		"stage0.rbr_reparam.weight": tensor.FromF32([]float32{1, 2, 3, 4}, 1, 1, 2, 2),
		"n":                         tensor.FromI64([]int64{5}, 1),
		"scalar":                    tensor.FromF32([]float32{0.5}),
	}
	if err := WriteNPZ(path, names, m); err != nil {
		t.Fatal(err)
	}
	gotNames, got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(gotNames, ",") != strings.Join(names, ",") {
		t.Errorf("names %v, want %v", gotNames, names)
	}
	for _, n := range names {
		a, b := m[n], got[n]
		if b == nil || !sameTensor(a, b) {
			t.Errorf("%s: got %v, want %v", n, b, a)
		}
	}
	if err := WriteNPZ(path, []string{"a", "a"}, map[string]*tensor.Tensor{"a": m["n"]}); err == nil {
		t.Error("duplicate names: no error")
	}
	if err := WriteNPZ(path, []string{"zz"}, m); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("missing tensor: %v", err)
	}
}

// TestNPZDeflated reads an archive like numpy.savez_compressed writes.
func TestNPZDeflated(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "w.npy", Method: zip.Deflate})
	Write(w, tensor.FromF32(make([]float32, 1000), 10, 100))
	zw.Close()
	names, m, err := ReadNPZFrom(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(names) != 1 || names[0] != "w" || !tensor.SameShape(m["w"].Shape, []int{10, 100}) {
		t.Fatalf("got %v %v %v", names, m, err)
	}
}

func TestNPZErrors(t *testing.T) {
	mk := func(name string, body []byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(name)
		w.Write(body)
		zw.Close()
		return buf.Bytes()
	}
	good := mk("a.npy", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", le(float32(1))))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not zip", []byte("hello, world"), "truncated or corrupt zip archive"},
		{"truncated", good[:len(good)-30], "truncated or corrupt zip archive"},
		{"not npy entry", mk("readme.txt", []byte("hi")), `entry "readme.txt" is not a .npy array`},
		{"bad npy entry", mk("a.npy", []byte("garbage")), `entry "a.npy": `},
	}
	for _, tc := range tests {
		_, _, err := ReadNPZFrom(bytes.NewReader(tc.data), int64(len(tc.data)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "t.npz")
	os.WriteFile(p, good[:len(good)/2], 0o644)
	if _, _, err := ReadNPZ(p); err == nil || !strings.HasPrefix(err.Error(), p+": truncated") {
		t.Errorf("truncated file: %v", err)
	}
}
