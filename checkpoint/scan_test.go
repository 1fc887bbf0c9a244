package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// TestScanPickle checks the pre-execution scanner against pickles CPython wrote with every
// protocol: it must accept each whole (stopping at STOP even with bytes after it), reject
// every truncation, and agree with the unpickler, which must then execute them.
func TestScanPickle(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pickles", "*.pkl"))
	if len(files) == 0 {
		t.Fatal("no test pickles")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := scanPickle(append(data, "trailing junk"...)); err != nil || n != len(data) {
			t.Errorf("%s: scan = %d, %v; want %d", f, n, err, len(data))
		}
		for k := range len(data) {
			if _, err := scanPickle(data[:k]); err == nil {
				t.Errorf("%s: truncated to %d bytes, accepted", f, k)
				break
			}
		}
		l := newTorchLoader(&Info{}, false, &loadCtx{lim: Limits{}.resolve(0), bud: &byteBudget{max: 1 << 30}})
		if _, n, err := l.unpickle(data); err != nil || n != len(data) {
			t.Errorf("%s: unpickle: %d %v", f, n, err)
		}
	}
}

func TestScanPickleLimits(t *testing.T) {
	deep := make([]byte, 0, maxPickleMarks+10)
	deep = append(deep, opProto, 2)
	for range maxPickleMarks + 1 {
		deep = append(deep, opMark)
	}
	if _, err := scanPickle(deep); err == nil {
		t.Error("deep MARK nesting accepted")
	}
	for name, p := range map[string][]byte{
		"frame":   []byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f."),
		"bytes8":  []byte("\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x01."),
		"long4":   []byte("\x80\x02\x8b\xff\xff\xff\xff."),
		"long1-0": []byte("\x80\x02\x8a\x00."),
		"line":    []byte("\x80\x02cno newline"),
		"unknown": []byte("\x80\x02\xff."),
	} {
		if _, err := scanPickle(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
