package checkpoint

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// fuzzLimits are the small budgets the budget fuzzers load under.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPickleOps: 400, MaxPickleObjects: 150}

// fuzzNames are the entry names FuzzZipContainer picks from: PyTorch records, npz arrays,
// and repeats of each, so that duplicate names are common.
var fuzzNames = []string{
	"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/version",
	"a.npy", "b.npy", "archive/data/0", "a.npy",
}

// zipFromLayout builds a zip from a fuzzer's layout: every two bytes make one entry, the
// first picking its name, the second whether it is deflated (bit 0) and whether it shares
// the data of an earlier entry (bits 1-3: 1 + its index) instead of holding its own. An
// entry's own data depends on its name: a pickle referencing storages "0" and "1" for
// data.pkl, an .npy array for .npy names, payload otherwise.
func zipFromLayout(layout, payload []byte) []byte {
	pkl := pickleOf(func(p *pickler) {
		p.op(opEmptyDict, opMark)
		for i, key := range []string{"0", "1"} {
			n := 1 + int(binary.LittleEndian.Uint16(append(payload, 0, 0, 0, 0)[2*i:]))%64
			p.str("w" + key)
			p.rebuildTensor("FloatStorage", key, n, 0, []int{n}, []int{1})
		}
		p.op(opSetitems)
	})
	var arr bytes.Buffer
	npy.Write(&arr, tensor.FromF32(make([]float32, len(payload)%32), len(payload)%32))
	var entries []handEntry
	for i := 0; i+1 < len(layout) && len(entries) < 16; i += 2 {
		name := fuzzNames[int(layout[i])%len(fuzzNames)]
		share := int(layout[i+1]>>1&7) - 1
		if share >= 0 && share < len(entries) {
			entries = append(entries, handEntry{name: name, shareWith: share})
			for entries[len(entries)-1].shareWith >= 0 && entries[entries[len(entries)-1].shareWith].shareWith >= 0 {
				entries[len(entries)-1].shareWith = entries[entries[len(entries)-1].shareWith].shareWith
			}
			continue
		}
		body := payload
		switch {
		case name == "archive/data.pkl":
			body = pkl
		case name == "archive/version":
			body = []byte("3\n")
		case bytes.HasSuffix([]byte(name), []byte(".npy")):
			body = arr.Bytes()
		}
		e := storedEntry(name, body)
		if layout[i+1]&1 != 0 {
			e = deflatedEntry(name, body)
		}
		entries = append(entries, e)
	}
	return handZip(entries)
}

// FuzzZipContainer fuzzes the zip layer with shared storages (several names pointing at
// one local header and stream) and duplicate names: loading never panics, and what loads
// stays within the byte budget.
func FuzzZipContainer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 3, 0}, make([]byte, 256))     // a well-formed .pth
	f.Add([]byte{0, 0, 1, 1, 2, 4, 3, 0}, make([]byte, 256))     // storage 1 shares storage 0's deflated stream
	f.Add([]byte{4, 1, 5, 2, 7, 2}, make([]byte, 8))             // npz, b.npy and a duplicate a.npy share a.npy's data
	f.Add([]byte{0, 0, 0, 0, 1, 0, 6, 0, 2, 0}, make([]byte, 4)) // two data.pkl, two data/0
	f.Fuzz(func(t *testing.T, layout, payload []byte) {
		if len(payload) > 1<<16 {
			return
		}
		data := zipFromLayout(layout, payload)
		sd, _, err := load("f.pth", bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			if len(err.Error()) == 0 || err.Error()[:6] != "f.pth:" {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		var total int64
		for _, k := range sd.Keys {
			total += npy.NumBytes(sd.Tensors[k])
		}
		if total > fuzzLimits.MaxBytes+int64(len(data)) {
			t.Fatalf("loaded %d bytes under a budget of %d", total, fuzzLimits.MaxBytes)
		}
	})
}

// FuzzPickleBudget fuzzes data.pkl under small opcode and object budgets: whatever the
// pickle, loading never panics and never allocates more than a bound proportional to the
// budgets (hostile opcode mixes used to reach gigabytes).
func FuzzPickleBudget(f *testing.F) {
	f.Add([]byte("\x80\x02}q\x00(X\x01\x00\x00\x00wq\x01K\x01u."))
	f.Add(append(bytes.Repeat([]byte("})]2"), 100), '.'))
	f.Add([]byte("\x80\x02\x8b\x08\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f."))
	f.Add([]byte("\x80\x02(((((((((((((((((((((((((((((((((((((((((((((((((((((."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		data := pickleZip(pkl)
		var err error
		alloc := allocatedBy(func() {
			_, _, err = load("f.pth", bytes.NewReader(data), int64(len(data)), fuzzLimits)
		})
		if alloc > 32<<20+64*uint64(len(pkl)) {
			t.Fatalf("allocated %d bytes for a %d-byte pickle (err %v)", alloc, len(pkl), err)
		}
	})
}

// TestZipContainerSeeds checks FuzzZipContainer's harness builds archives that load, so
// the fuzzer starts from inputs that reach the storages.
func TestZipContainerSeeds(t *testing.T) {
	for _, layout := range [][]byte{{0, 0, 1, 0, 2, 0, 3, 0}, {0, 0, 1, 1, 2, 4, 3, 0}} {
		data := zipFromLayout(layout, make([]byte, 256))
		sd, _, err := load("f.pth", bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil || len(sd.Keys) != 2 || sd.Tensors["w1"].Len() != 1 {
			t.Fatalf("layout %v: %v %v", layout, sd, err)
		}
	}
	data := zipFromLayout([]byte{4, 1, 5, 2, 7, 2}, make([]byte, 8))
	_, _, err := load("f.npz", bytes.NewReader(data), int64(len(data)), fuzzLimits)
	if err == nil || err.Error() != `f.npz: duplicate entry "a.npy"` {
		t.Fatalf("npz with a duplicate: %v", err)
	}
}
