package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that Read never panics and that whatever it accepts survives a
// write-read round trip unchanged. Seeds: the files in testdata (copied from the golden
// reference data) and a few hand-made headers.
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (), }", le(uint16(0x3c00))))
	f.Add(npyBytes(2, "{'descr': '>u8', 'fortran_order': False, 'shape': (1, 1), }", le(uint64(9))))
	f.Add(npyBytes(3, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", []byte{0, 1, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := Validate(x); err != nil {
			t.Fatalf("Read returned an invalid tensor: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, x); err != nil {
			t.Fatalf("Write: %v", err)
		}
		y, err := Read(&buf)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if !sameTensor(x, y) {
			t.Fatalf("round trip changed %v into %v", x, y)
		}
	})
}
