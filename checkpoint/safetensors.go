package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// maxSafetensorsHeader is the header size limit of the reference implementation.
const maxSafetensorsHeader = 100_000_000

// safetensorsElems maps safetensors dtype names to element encodings.
var safetensorsElems = map[string]npy.Elem{
	"F32": npy.F32, "F16": npy.F16, "BF16": npy.BF16, "F64": npy.F64,
	"I64": npy.I64, "I32": npy.I32, "I16": npy.I16, "I8": npy.I8,
	"U64": npy.U64, "U32": npy.U32, "U16": npy.U16, "U8": npy.U8,
	"BOOL": npy.Bool,
}

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	name       string
	elem       npy.Elem
	shape      []int
	begin, end int64
	pos        int // position in the header, to order zero-size tensors
}

// loadSafetensors reads a safetensors file: an 8-byte little-endian header length, a JSON
// header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}},
// then the data section. Offsets are relative to the data section and must tile it
// exactly, in order, with no gaps or overlaps, as the reference implementation requires.
// Keys come out in data order.
func loadSafetensors(r io.ReaderAt, size int64, info *Info, c *loadCtx) (*StateDict, error) {
	if size < 8 {
		return nil, errorf("corrupt safetensors header: the file is only %d bytes", size)
	}
	var pre [8]byte
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > maxSafetensorsHeader {
		return nil, errorf("corrupt safetensors header: header length %d exceeds the %d-byte limit", n, maxSafetensorsHeader)
	}
	if n > uint64(size-8) {
		return nil, errorf("corrupt safetensors header: header length %d exceeds the file size (%d bytes)", n, size)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil && err != io.EOF {
		return nil, err
	}
	entries, meta, err := parseSafetensorsHeader(hdr)
	if err != nil {
		return nil, errorf("corrupt safetensors header: %v", err)
	}
	info.Metadata = meta
	base := 8 + int64(n)
	dataLen := size - base
	slices.SortStableFunc(entries, func(a, b stEntry) int {
		if a.begin != b.begin {
			return int(min(max(a.begin-b.begin, -1), 1))
		}
		return a.pos - b.pos
	})
	var at int64
	for _, e := range entries {
		if e.begin != at {
			return nil, errorf("corrupt safetensors header: tensor %q starts at data byte %d, want %d (offsets must tile the data without gaps or overlaps)", e.name, e.begin, at)
		}
		numel, _ := npy.CheckShape(e.shape)
		need := int64(numel) * int64(e.elem.Size())
		if numel > (1<<62)/e.elem.Size() || e.end-e.begin != need {
			return nil, errorf("corrupt safetensors header: tensor %q spans %d bytes, but %s[%s] needs %d",
				e.name, e.end-e.begin, e.elem, tensor.ShapeString(e.shape), need)
		}
		at = e.end
	}
	if at != dataLen {
		return nil, errorf("corrupt safetensors header: tensors cover %d data bytes, the file holds %d", at, dataLen)
	}
	sd := New()
	for _, e := range entries {
		if _, dup := sd.Tensors[e.name]; dup {
			return nil, errorf("corrupt safetensors header: duplicate tensor %q", e.name)
		}
		sr := io.NewSectionReader(r, base+e.begin, e.end-e.begin)
		t, err := npy.ReadElems(sr, e.elem, binary.LittleEndian, e.shape, e.end-e.begin)
		if err != nil {
			return nil, errorf("tensor %q: %v", e.name, err)
		}
		info.noteConversion(e.name, e.elem)
		sd.Set(e.name, t)
	}
	return sd, nil
}

// parseSafetensorsHeader decodes the JSON header strictly: one object, no duplicate or
// unknown keys, known dtypes, non-negative shapes, and nothing but spaces after it.
func parseSafetensorsHeader(hdr []byte) ([]stEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	var entries []stEntry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("bad JSON (%v)", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, nil, fmt.Errorf("duplicate key %q", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var raw struct {
			Dtype       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := dec.Decode(&raw); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, nil, fmt.Errorf("truncated JSON")
			}
			return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		e := stEntry{name: name, pos: len(entries)}
		var ok bool
		if e.elem, ok = safetensorsElems[raw.Dtype]; !ok {
			return nil, nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, raw.Dtype)
		}
		if raw.Shape == nil {
			return nil, nil, fmt.Errorf("tensor %q: no shape", name)
		}
		e.shape = make([]int, len(raw.Shape))
		for i, d := range raw.Shape {
			if d < 0 || d > 1<<53 {
				return nil, nil, fmt.Errorf("tensor %q: bad shape %v", name, raw.Shape)
			}
			e.shape[i] = int(d)
		}
		if _, err := npy.CheckShape(e.shape); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		if len(raw.DataOffsets) != 2 || raw.DataOffsets[0] < 0 || raw.DataOffsets[1] < raw.DataOffsets[0] {
			return nil, nil, fmt.Errorf("tensor %q: bad data_offsets %v", name, raw.DataOffsets)
		}
		e.begin, e.end = raw.DataOffsets[0], raw.DataOffsets[1]
		entries = append(entries, e)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, fmt.Errorf("bad JSON: unterminated object")
	}
	rest := hdr[dec.InputOffset():]
	if len(bytes.Trim(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("trailing data after the JSON object")
	}
	return entries, meta, nil
}

// SaveSafetensors writes sd to path in the safetensors format: float32 tensors as F32,
// int64 tensors as I64, in key order, with __metadata__ {"format": "pt"} (which
// safetensors.torch and transformers expect). The header is padded with spaces to a
// multiple of 8 bytes so that the data is aligned. Errors name the file.
func SaveSafetensors(path string, sd *StateDict) error {
	return save(path, sd, func(w io.Writer) error { return writeSafetensors(w, sd) })
}

// writeSafetensors writes the safetensors file of sd to w.
func writeSafetensors(w io.Writer, sd *StateDict) error {
	hdr := safetensorsHeader(sd)
	pre := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	if _, err := w.Write(append(pre, hdr...)); err != nil {
		return err
	}
	for _, k := range sd.Keys {
		if err := npy.WriteElems(w, sd.Tensors[k]); err != nil {
			return err
		}
	}
	return nil
}

// safetensorsHeader returns the padded JSON header for sd.
func safetensorsHeader(sd *StateDict) []byte {
	var b bytes.Buffer
	b.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	for _, k := range sd.Keys {
		t := sd.Tensors[k]
		n := npy.NumBytes(t)
		dtype := "F32"
		if t.DType == tensor.Int64 {
			dtype = "I64"
		}
		dims := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = fmt.Sprint(d)
		}
		b.WriteByte(',')
		b.Write(jsonString(k))
		fmt.Fprintf(&b, `:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}`,
			dtype, strings.Join(dims, ","), off, off+n)
		off += n
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes()
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
