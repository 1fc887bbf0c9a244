package checkpoint

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vggsim/vggsim/internal/npy"
)

// SavePTH writes sd to path as torch.save(state_dict) does with PyTorch ≥ 1.6 (the zip
// serialization), so that torch.load reads it and load_state_dict accepts it:
//
//	<stem>/data.pkl     pickle protocol 2: an OrderedDict of _rebuild_tensor_v2 calls
//	<stem>/byteorder    "little"
//	<stem>/data/0, …    each tensor's storage, raw little-endian, in key order
//	<stem>/version      "3\n"
//
// where <stem> is the file name without its extension. Entries are stored uncompressed,
// with data descriptors and zero timestamps, and each entry's data starts at a multiple of
// 64 bytes thanks to padding in the local header's extra field, as PyTorch's writer does.
// Float32 tensors get FloatStorage, int64 tensors LongStorage. The only difference from
// torch.save of a module's state_dict() is the missing _metadata attribute (module
// versions), which load_state_dict does not need. Errors name the file.
func SavePTH(path string, sd *StateDict) error {
	return savePTH(path, sd, pthOptions{})
}

func savePTH(path string, sd *StateDict, opt pthOptions) error {
	return save(path, sd, func(w io.Writer) error {
		return writePTH(w, archiveStem(path), sd, opt)
	})
}

// writePTH writes the torch.save zip of sd with root folder stem to w.
func writePTH(w io.Writer, stem string, sd *StateDict, opt pthOptions) error {
	z := &torchZip{w: w}
	z.recordBytes(stem+"/data.pkl", encodeStateDict(sd, opt))
	z.recordBytes(stem+"/byteorder", []byte("little"))
	// torch.save writes the storages sorted by key as strings: 0, 1, 10, 11, …, 2, ….
	order := make([]int, len(sd.Keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(storageKey(a), storageKey(b)) })
	for _, i := range order {
		t := sd.Tensors[sd.Keys[i]]
		z.record(stem+"/data/"+storageKey(i), npy.NumBytes(t), func(w io.Writer) error {
			return npy.WriteElems(w, t)
		})
	}
	z.recordBytes(stem+"/version", []byte("3\n"))
	return z.close()
}

// archiveStem is the root folder name torch.save uses: the file's base name without its
// last extension ("archive" if that leaves nothing).
func archiveStem(path string) string {
	base := filepath.Base(path)
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if base == "" || base == "." || base == string(filepath.Separator) {
		return "archive"
	}
	return base
}

// torchZip writes a zip archive laid out like PyTorch's PyTorchStreamWriter (miniz):
// stored entries, flag 0x0808 (data descriptor, UTF-8 names), zero version and time fields,
// "FB" padding in the local extra field so that data is 64-byte aligned, and a zip64 end
// record before the classic one.
type torchZip struct {
	w       io.Writer
	off     int64
	entries []zipEntry
	err     error
}

type zipEntry struct {
	name         string
	crc          uint32
	size, offset int64
}

const (
	zipAlign  = 64         // PyTorch's kFieldAlignment
	zipMax32  = 0xffffffff // sizes at or above this need zip64 fields
	zipFlags  = 0x0808
	zip64Need = 45
)

func (z *torchZip) write(b []byte) {
	if z.err != nil {
		return
	}
	n, err := z.w.Write(b)
	z.off += int64(n)
	z.err = err
}

// record writes one stored entry of size bytes produced by body.
func (z *torchZip) record(name string, size int64, body func(io.Writer) error) {
	if z.err != nil {
		return
	}
	start := z.off
	// Padding as in caffe2::serialize::detail::getPadding.
	dataAt := start + 30 + int64(len(name)) + 4
	pad := (zipAlign - dataAt%zipAlign) % zipAlign
	h := make([]byte, 0, 30+len(name)+4+int(pad))
	h = binary.LittleEndian.AppendUint32(h, 0x04034b50)
	h = binary.LittleEndian.AppendUint16(h, 0) // version needed
	h = binary.LittleEndian.AppendUint16(h, zipFlags)
	h = append(h, make([]byte, 2+2+2+4+4+4)...) // method, time, date, crc, sizes: 0
	h = binary.LittleEndian.AppendUint16(h, uint16(len(name)))
	h = binary.LittleEndian.AppendUint16(h, uint16(4+pad))
	h = append(h, name...)
	h = append(h, 'F', 'B')
	h = binary.LittleEndian.AppendUint16(h, uint16(pad))
	for range pad {
		h = append(h, 'Z')
	}
	z.write(h)
	if z.err != nil {
		return
	}
	cw := &crcWriter{w: z.w, crc: crc32.NewIEEE()}
	if err := body(cw); err != nil {
		z.err = err
		return
	}
	z.off += cw.n
	if cw.n != size {
		z.err = errorf("internal error: entry %q wrote %d bytes, announced %d", name, cw.n, size)
		return
	}
	e := zipEntry{name: name, crc: cw.crc.Sum32(), size: size, offset: start}
	d := binary.LittleEndian.AppendUint32(nil, 0x08074b50)
	d = binary.LittleEndian.AppendUint32(d, e.crc)
	if size >= zipMax32 {
		d = binary.LittleEndian.AppendUint64(d, uint64(size))
		d = binary.LittleEndian.AppendUint64(d, uint64(size))
	} else {
		d = binary.LittleEndian.AppendUint32(d, uint32(size))
		d = binary.LittleEndian.AppendUint32(d, uint32(size))
	}
	z.write(d)
	z.entries = append(z.entries, e)
}

// recordBytes writes one stored entry holding b.
func (z *torchZip) recordBytes(name string, b []byte) {
	z.record(name, int64(len(b)), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// close writes the central directory, the zip64 end record and locator, and the classic
// end record.
func (z *torchZip) close() error {
	cdStart := z.off
	for _, e := range z.entries {
		var x []byte // zip64 extended information, if needed
		size32, off32 := uint32(e.size), uint32(e.offset)
		if e.size >= zipMax32 {
			x = binary.LittleEndian.AppendUint64(x, uint64(e.size))
			x = binary.LittleEndian.AppendUint64(x, uint64(e.size))
			size32 = zipMax32
		}
		if e.offset >= zipMax32 {
			x = binary.LittleEndian.AppendUint64(x, uint64(e.offset))
			off32 = zipMax32
		}
		need := uint16(0)
		if x != nil {
			x = append(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 1), uint16(len(x))), x...)
			need = zip64Need
		}
		h := binary.LittleEndian.AppendUint32(nil, 0x02014b50)
		h = binary.LittleEndian.AppendUint16(h, 0) // version made by
		h = binary.LittleEndian.AppendUint16(h, need)
		h = binary.LittleEndian.AppendUint16(h, zipFlags)
		h = append(h, make([]byte, 2+2+2)...) // method, time, date
		h = binary.LittleEndian.AppendUint32(h, e.crc)
		h = binary.LittleEndian.AppendUint32(h, size32)
		h = binary.LittleEndian.AppendUint32(h, size32)
		h = binary.LittleEndian.AppendUint16(h, uint16(len(e.name)))
		h = binary.LittleEndian.AppendUint16(h, uint16(len(x)))
		h = append(h, make([]byte, 2+2+2+4)...) // comment length, disk, attributes
		h = binary.LittleEndian.AppendUint32(h, off32)
		h = append(h, e.name...)
		h = append(h, x...)
		z.write(h)
	}
	cdSize := z.off - cdStart
	n := uint64(len(z.entries))
	eocd64 := z.off
	h := binary.LittleEndian.AppendUint32(nil, 0x06064b50)
	h = binary.LittleEndian.AppendUint64(h, 44)
	h = binary.LittleEndian.AppendUint16(h, 0x031e) // made by, as miniz writes
	h = binary.LittleEndian.AppendUint16(h, zip64Need)
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint64(h, n)
	h = binary.LittleEndian.AppendUint64(h, n)
	h = binary.LittleEndian.AppendUint64(h, uint64(cdSize))
	h = binary.LittleEndian.AppendUint64(h, uint64(cdStart))
	h = binary.LittleEndian.AppendUint32(h, 0x07064b50)
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint64(h, uint64(eocd64))
	h = binary.LittleEndian.AppendUint32(h, 1)
	h = binary.LittleEndian.AppendUint32(h, 0x06054b50)
	h = binary.LittleEndian.AppendUint32(h, 0) // disk numbers
	n16 := uint16(min(n, 0xffff))
	h = binary.LittleEndian.AppendUint16(h, n16)
	h = binary.LittleEndian.AppendUint16(h, n16)
	h = binary.LittleEndian.AppendUint32(h, uint32(min(cdSize, zipMax32)))
	h = binary.LittleEndian.AppendUint32(h, uint32(min(cdStart, zipMax32)))
	h = binary.LittleEndian.AppendUint16(h, 0) // comment length
	z.write(h)
	return z.err
}

// crcWriter counts and checksums what passes through it.
type crcWriter struct {
	w   io.Writer
	crc interface {
		io.Writer
		Sum32() uint32
	}
	n int64
}

func (c *crcWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.crc.Write(b[:n])
	c.n += int64(n)
	return n, err
}
