package checkpoint

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/internal/budget"
)

// handEntry is one central-directory record of a hand-made zip. An entry with shareWith ≥ 0
// has no data of its own: its record points at entry shareWith's local header, the way a
// zip bomb makes many names inflate one deflate stream.
type handEntry struct {
	name      string
	data      []byte // stored bytes, or the deflate stream when deflated
	deflated  bool
	usize     uint64
	crc       uint32
	shareWith int
}

// handZip writes entries as a zip archive, without archive/zip's checks.
func handZip(entries []handEntry) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	offsets := make([]uint32, len(entries))
	method := func(e handEntry) uint16 {
		if e.deflated {
			return 8
		}
		return 0
	}
	for i, e := range entries {
		if e.shareWith >= 0 {
			offsets[i] = offsets[e.shareWith]
			continue
		}
		offsets[i] = uint32(b.Len())
		le(uint32(0x04034b50))
		le([]uint16{20, 0, method(e), 0, 0})
		le([]uint32{e.crc, uint32(len(e.data)), uint32(e.usize)})
		le([]uint16{uint16(len(e.name)), 0})
		b.WriteString(e.name)
		b.Write(e.data)
	}
	cd := b.Len()
	for i, e := range entries {
		src := e
		if e.shareWith >= 0 {
			src = entries[e.shareWith]
		}
		le(uint32(0x02014b50))
		le([]uint16{20, 20, 0, method(src), 0, 0})
		le([]uint32{src.crc, uint32(len(src.data)), uint32(src.usize)})
		le([]uint16{uint16(len(e.name)), 0, 0, 0, 0})
		le([]uint32{0, offsets[i]})
		b.WriteString(e.name)
	}
	cdLen := b.Len() - cd
	le(uint32(0x06054b50))
	le([]uint16{0, 0, uint16(len(entries)), uint16(len(entries))})
	le([]uint32{uint32(cdLen), uint32(cd)})
	le(uint16(0))
	return b.Bytes()
}

// deflatedEntry returns an entry holding body deflated.
func deflatedEntry(name string, body []byte) handEntry {
	var c bytes.Buffer
	w, _ := flate.NewWriter(&c, flate.BestSpeed)
	w.Write(body)
	w.Close()
	return handEntry{name: name, data: c.Bytes(), deflated: true, usize: uint64(len(body)),
		crc: crc32.ChecksumIEEE(body), shareWith: -1}
}

func storedEntry(name string, body []byte) handEntry {
	return handEntry{name: name, data: body, usize: uint64(len(body)), crc: crc32.ChecksumIEEE(body), shareWith: -1}
}

// allocatedBy returns the bytes f allocates on the heap (cumulative, not live).
func allocatedBy(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// bombElems is the float32 count of each bomb entry: 24 MiB of zeros, deflated to ~24 KB.
// Ten entries share the stream: 240 MiB announced by a ~25 KB file.
const bombElems = 6 << 20

// TestZipBombBudget is issue 13 item 1: entries that all point at one deflate stream of
// zeros. Each entry is plausible alone; together they exceed the archive's budget, and
// loading stops before the process has allocated more than the budget.
func TestZipBombBudget(t *testing.T) {
	zeros := make([]byte, bombElems*4)
	t.Run("pth", func(t *testing.T) {
		pkl := pickleOf(func(p *pickler) {
			p.op(opEmptyDict, opMark)
			for i := range 10 {
				p.str(fmt.Sprint("w", i))
				p.rebuildTensor("FloatStorage", fmt.Sprint(i), bombElems, 0, []int{bombElems}, []int{1})
			}
			p.op(opSetitems)
		})
		entries := []handEntry{storedEntry("archive/data.pkl", pkl), deflatedEntry("archive/data/0", zeros)}
		for i := 1; i < 10; i++ {
			entries = append(entries, handEntry{name: fmt.Sprint("archive/data/", i), shareWith: 1})
		}
		data := handZip(entries)
		require.Less(t, len(data), 64<<10)
		var err error
		alloc := allocatedBy(func() { _, err = LoadBytes("bomb.pth", data) })
		require.Error(t, err)
		assert.Equal(t, `bomb.pth: key "w2": storage record "archive/data/2" would take the checkpoint past its budget of `+
			budget.Bytes(DefaultSlack+DefaultExpansion*int64(len(data)))+` decoded bytes (set $VGGSIM_MAX_CHECKPOINT_BYTES to allow more)`, err.Error())
		assert.Less(t, alloc, uint64(DefaultSlack+DefaultSlack/2), "allocated %d bytes", alloc)
	})
	t.Run("npz", func(t *testing.T) {
		hdr := []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (6291456,), }")
		hdr = append(hdr, bytes.Repeat([]byte(" "), 128-1-len(hdr))...)
		hdr = append(hdr, '\n')
		entries := []handEntry{deflatedEntry("a0.npy", append(hdr, zeros...))}
		for i := 1; i < 3; i++ { // three are enough to exceed the budget; ten cost time below
			entries = append(entries, handEntry{name: fmt.Sprintf("a%d.npy", i), shareWith: 0})
		}
		data := handZip(entries)
		var err error
		alloc := allocatedBy(func() { _, err = LoadBytes("bomb.npz", data) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), `bomb.npz: entry "a2.npy" would take the checkpoint past its budget`)
		assert.Less(t, alloc, uint64(DefaultSlack+DefaultSlack/2), "allocated %d bytes", alloc)

		// The same file loads when the budget is raised: the limit is the only obstacle.
		t.Setenv(EnvMaxBytes, "1G")
		sd, err := LoadBytes("bomb.npz", data)
		require.NoError(t, err)
		assert.Equal(t, 3, len(sd.Keys))
	})
}

// TestPickleBudgets is issue 13 items 2 and 3: huge integers are refused before gopickle
// decodes them (quadratically), and opcode and object counts are bounded.
func TestPickleBudgets(t *testing.T) {
	long4 := append([]byte{opProto, 2, opLong4}, binary.LittleEndian.AppendUint32(nil, 1<<20)...)
	long4 = append(append(long4, bytes.Repeat([]byte{0x7f}, 1<<20)...), opStop)
	textLong := append(append([]byte("L"), bytes.Repeat([]byte("9"), 4<<20)...), "L\n."...)
	for _, tc := range []struct {
		name, pkl, want string
	}{
		{"long4", string(long4), "pickled integer of 1048576 bytes at offset 2 (at most 64 accepted)"},
		{"text long", string(textLong), "pickled integer of 4194305 digits at offset 0 (at most 192 accepted)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocatedBy(func() { _, err = LoadBytes("x.pth", pickleZip([]byte(tc.pkl))) })
			require.Error(t, err)
			assert.Equal(t, "x.pth: malformed pickle: "+tc.want, err.Error())
			assert.Less(t, alloc, uint64(64<<20))
		})
	}

	// 65 KB of EMPTY_DICT / EMPTY_LIST / EMPTY_TUPLE / DUP: bounded memory by default,
	// refused under a smaller object budget.
	p := []byte{opProto, 2}
	for len(p) < 65<<10 {
		p = append(p, "}])2"...)
	}
	p = append(p, opStop)
	data := pickleZip(p)
	alloc := allocatedBy(func() { LoadBytes("x.pth", data) })
	assert.Less(t, alloc, uint64(64<<20))
	t.Setenv(EnvMaxPickleObjects, "1000")
	_, err := LoadBytes("x.pth", data)
	require.Error(t, err)
	assert.Equal(t, "x.pth: malformed pickle: pickle creates more than 1000 objects (set $VGGSIM_MAX_PICKLE_OBJECTS to allow more)", err.Error())
	t.Setenv(EnvMaxPickleObjects, "")
	t.Setenv(EnvMaxPickleOps, "500")
	_, err = LoadBytes("x.pth", data)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pickle has more than 500 opcodes (set $VGGSIM_MAX_PICKLE_OPS")
	t.Setenv(EnvMaxPickleOps, "lots")
	_, err = LoadBytes("x.pth", data)
	require.Error(t, err)
	assert.Equal(t, `$VGGSIM_MAX_PICKLE_OPS: bad count "lots", want a positive integer with an optional K, M, G or T suffix`, err.Error())
}

// TestSharedStorageBudget is issue 13 item 4: one storage viewed nine times. The first
// view takes the storage; the copies for the others are bounded by twice the stored data.
func TestSharedStorageBudget(t *testing.T) {
	const n = 4 << 20 // 16 MiB of float32
	pkl := pickleOf(func(p *pickler) {
		p.op(opEmptyDict, opMark)
		for i := range 9 {
			p.str(fmt.Sprint("w", i))
			p.rebuildTensor("FloatStorage", "0", n, 0, []int{n}, []int{1})
		}
		p.op(opSetitems)
	})
	data := torchZipBytes(pkl, map[string][]byte{"0": make([]byte, 4*n)})
	var err error
	alloc := allocatedBy(func() { _, err = LoadBytes("views.pth", data) })
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `views.pth: key "w2": tensors reference their storages too many times`), err.Error())
	assert.Less(t, alloc, uint64(4*4*n), "allocated %d bytes", alloc)
}
