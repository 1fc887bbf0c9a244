package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/tensor"
)

// magic starts every .npy file; the two version bytes follow it.
const magic = "\x93NUMPY"

// maxHeaderLen caps the header of a version 2.0/3.0 file. NumPy itself refuses headers
// above 10000 bytes unless told otherwise; real headers are under 200 bytes.
const maxHeaderLen = 1 << 20

// growthDigits is NumPy's GROWTH_AXIS_MAX_DIGITS: the header leaves room for the first axis
// to grow to this many digits, so that it can be rewritten in place.
const growthDigits = 21

// align is NumPy's ARRAY_ALIGN: the data starts at a multiple of this many bytes.
const align = 64

// A FormatError reports malformed or unsupported content in a .npy or .npz file.
type FormatError struct {
	Path string // the file; "" when reading from an io.Reader
	Msg  string // lowercase, without the path
}

// Error formats the problem as "path: message" ("npy: message" without a path).
func (e *FormatError) Error() string {
	if e.Path == "" {
		return "npy: " + e.Msg
	}
	return e.Path + ": " + e.Msg
}

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// withPath names path in err: a *FormatError gets its Path set, any other error is wrapped
// as "path: err".
func withPath(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		return &FormatError{Path: path, Msg: fe.Msg}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Header is the parsed header of a .npy file.
type Header struct {
	Major, Minor byte             // format version: 1.0, 2.0 or 3.0
	Descr        string           // the dtype descriptor as written, e.g. "<f4"
	Elem         Elem             // the element encoding Descr names
	ByteOrder    binary.ByteOrder // the byte order Descr names
	Shape        []int            // C order; empty for a 0-d array
	Len          int64            // bytes from the start of the file to the data
}

// Numel returns the number of elements the header announces.
func (h *Header) Numel() int { return tensor.Numel(h.Shape) }

// ReadHeader reads and checks a .npy header from r, leaving r at the first data byte.
// Fortran-order arrays, structured dtypes and unknown dtypes are errors.
func ReadHeader(r io.Reader) (*Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		if err == io.EOF {
			return nil, formatErr("empty file, not a .npy array")
		}
		return nil, formatErr("truncated header")
	}
	if string(pre[:6]) != magic {
		return nil, formatErr("not a .npy file (bad magic %q)", pre[:6])
	}
	h := &Header{Major: pre[6], Minor: pre[7]}
	var n int64
	switch h.Major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, formatErr("truncated header")
		}
		n = int64(binary.LittleEndian.Uint16(b[:]))
		h.Len = 10 + n
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, formatErr("truncated header")
		}
		n = int64(binary.LittleEndian.Uint32(b[:]))
		h.Len = 12 + n
	default:
		return nil, formatErr("unsupported .npy format version %d.%d", h.Major, h.Minor)
	}
	if n > maxHeaderLen {
		return nil, formatErr("header of %d bytes is too large", n)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r, text); err != nil {
		return nil, formatErr("truncated header (%d bytes announced)", n)
	}
	descr, fortran, shape, err := parseHeaderDict(string(text))
	if err != nil {
		return nil, formatErr("bad header %q: %v", strings.TrimSpace(string(text)), err)
	}
	if fortran {
		return nil, formatErr("fortran_order arrays are not supported (save a C-order array, e.g. np.ascontiguousarray)")
	}
	h.Descr, h.Shape = descr, shape
	if h.Elem, h.ByteOrder, err = parseDescr(descr); err != nil {
		return nil, formatErr("%v", err)
	}
	if _, err := CheckShape(shape); err != nil {
		return nil, formatErr("%v", err)
	}
	return h, nil
}

// parseDescr maps a NumPy dtype string such as "<f4" to an element encoding.
func parseDescr(d string) (Elem, binary.ByteOrder, error) {
	if len(d) < 3 {
		return 0, nil, fmt.Errorf("unsupported dtype %q", d)
	}
	var bo binary.ByteOrder
	switch d[0] {
	case '<', '|', '=':
		bo = binary.LittleEndian
	case '>':
		bo = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("unsupported dtype %q", d)
	}
	var e Elem
	switch d[1:] {
	case "f2":
		e = F16
	case "f4":
		e = F32
	case "f8":
		e = F64
	case "i1":
		e = I8
	case "i2":
		e = I16
	case "i4":
		e = I32
	case "i8":
		e = I64
	case "u1":
		e = U8
	case "u2":
		e = U16
	case "u4":
		e = U32
	case "u8":
		e = U64
	case "b1":
		e = Bool
	default:
		return 0, nil, fmt.Errorf("unsupported dtype %q (want a float or integer type such as '<f4' or '<i8')", d)
	}
	return e, bo, nil
}

// ReadData reads the array data that follows header h from r.
func (h *Header) ReadData(r io.Reader) (*tensor.Tensor, error) {
	return h.readData(r, -1)
}

func (h *Header) readData(r io.Reader, avail int64) (*tensor.Tensor, error) {
	t, err := ReadElems(r, h.Elem, h.ByteOrder, h.Shape, avail)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, formatErr("%v", err)
	}
	return t, nil
}

// Read reads a .npy array from r. Floating-point data becomes a float32 tensor (float64 is
// rounded to float32: check [Header.Elem] via ReadHeader if that matters), integer and
// boolean data an int64 tensor. A 0-d array becomes a tensor with an empty shape.
func Read(r io.Reader) (*tensor.Tensor, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	return h.ReadData(r)
}

// ReadFile reads the .npy file at path. Errors name the file.
func ReadFile(path string) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, withPath(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, withPath(path, err)
	}
	if st.IsDir() {
		return nil, &FormatError{Path: path, Msg: "is a directory, not a .npy file"}
	}
	t, err := readSized(bufio.NewReader(f), st.Size())
	return t, withPath(path, err)
}

// readSized reads a .npy array from r, which holds exactly size bytes.
func readSized(r io.Reader, size int64) (*tensor.Tensor, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	return h.readData(r, size-h.Len)
}

// Write writes t to w as a version 1.0 .npy array ('<f4' or '<i8', C order), byte for byte
// as numpy.save writes it (version 2.0 only if the header needs it).
func Write(w io.Writer, t *tensor.Tensor) error {
	if err := Validate(t); err != nil {
		return formatErr("%v", err)
	}
	if _, err := w.Write(encodeHeader(t)); err != nil {
		return err
	}
	return WriteElems(w, t)
}

// encodeHeader returns the magic, version, length and padded header dictionary for t.
func encodeHeader(t *tensor.Tensor) []byte {
	descr := "<f4"
	if t.DType == tensor.Int64 {
		descr = "<i8"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for i, d := range t.Shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(t.Shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteString("), }")
	if len(t.Shape) > 0 {
		b.WriteString(strings.Repeat(" ", max(0, growthDigits-len(strconv.Itoa(t.Shape[0])))))
	}
	dict := b.String()
	for _, major := range []byte{1, 2} {
		pre := 10
		if major == 2 {
			pre = 12
		}
		hlen := len(dict) + 1 // the closing newline
		pad := align - (pre+hlen)%align
		total := hlen + pad
		if major == 1 && total > 0xffff {
			continue
		}
		out := make([]byte, 0, pre+total)
		out = append(out, magic...)
		out = append(out, major, 0)
		if major == 1 {
			out = binary.LittleEndian.AppendUint16(out, uint16(total))
		} else {
			out = binary.LittleEndian.AppendUint32(out, uint32(total))
		}
		out = append(out, dict...)
		out = append(out, strings.Repeat(" ", pad)...)
		return append(out, '\n')
	}
	panic("unreachable")
}

// WriteFile writes t to a .npy file at path. Errors name the file.
func WriteFile(path string, t *tensor.Tensor) error {
	if err := Validate(t); err != nil {
		return withPath(path, formatErr("%v", err))
	}
	return withPath(path, atomicfile.Write(path, func(w io.Writer) error { return Write(w, t) }))
}

// parseHeaderDict parses the Python dict literal of a .npy header, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (8, 3), }". It accepts exactly the
// three keys NumPy writes, in any order.
func parseHeaderDict(s string) (descr string, fortran bool, shape []int, err error) {
	p := &litParser{s: s}
	p.space()
	if !p.eat('{') {
		return "", false, nil, fmt.Errorf("want '{'")
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return "", false, nil, err
		}
		if seen[key] {
			return "", false, nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return "", false, nil, fmt.Errorf("want ':' after %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return "", false, nil, fmt.Errorf("structured dtypes are not supported")
			}
			descr, err = p.str()
		case "fortran_order":
			fortran, err = p.boolean()
		case "shape":
			shape, err = p.tuple()
		default:
			return "", false, nil, fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return "", false, nil, fmt.Errorf("%s: %v", key, err)
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return "", false, nil, fmt.Errorf("want ',' or '}' after %q", key)
		}
	}
	p.space()
	if p.i != len(p.s) {
		return "", false, nil, fmt.Errorf("trailing text after '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return "", false, nil, fmt.Errorf("missing key %q", k)
		}
	}
	return descr, fortran, shape, nil
}

// litParser scans the small subset of Python literals a .npy header uses.
type litParser struct {
	s string
	i int
}

func (p *litParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *litParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *litParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// str scans a quoted string without escapes.
func (p *litParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("want a quoted string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

func (p *litParser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, fmt.Errorf("want True or False")
}

// tuple scans a tuple of non-negative integers such as "()", "(3,)" or "(2, 3L)".
func (p *litParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("want a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, fmt.Errorf("want a non-negative integer at offset %d", p.i)
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return nil, fmt.Errorf("dimension %s is too large", p.s[start:p.i])
		}
		p.eat('L') // Python 2 long suffix
		shape = append(shape, d)
		p.space()
		if p.eat(')') {
			if len(shape) == 1 {
				// "(3)" is an int in Python, not a tuple; NumPy never writes it.
				return nil, fmt.Errorf("want a tuple, got a parenthesized integer")
			}
			return shape, nil
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("want ',' or ')' at offset %d", p.i)
		}
	}
}
