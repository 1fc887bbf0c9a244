package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/vggsim/vggsim/tensor"
)

// Elem is the encoding of one element of raw array data, as NumPy, PyTorch and safetensors
// store it. Floating-point encodings decode to float32 tensors and integer and boolean
// encodings to int64 tensors; see [Elem.Exact] for the one lossy case.
type Elem uint8

// The element encodings the readers understand. The zero Elem is invalid.
const (
	F16  Elem = iota + 1 // IEEE 754 half precision
	BF16                 // bfloat16 (the top half of a float32)
	F32                  // IEEE 754 single precision
	F64                  // IEEE 754 double precision (rounded to float32 on decoding)
	I8
	I16
	I32
	I64
	U8
	U16
	U32
	U64 // values above math.MaxInt64 are an error on decoding
	Bool
)

var elemInfo = [...]struct {
	name  string
	size  int
	float bool
}{
	F16:  {"float16", 2, true},
	BF16: {"bfloat16", 2, true},
	F32:  {"float32", 4, true},
	F64:  {"float64", 8, true},
	I8:   {"int8", 1, false},
	I16:  {"int16", 2, false},
	I32:  {"int32", 4, false},
	I64:  {"int64", 8, false},
	U8:   {"uint8", 1, false},
	U16:  {"uint16", 2, false},
	U32:  {"uint32", 4, false},
	U64:  {"uint64", 8, false},
	Bool: {"bool", 1, false},
}

func (e Elem) valid() bool { return e > 0 && int(e) < len(elemInfo) }

// String returns the NumPy name of e ("float32", "bfloat16", …).
func (e Elem) String() string {
	if !e.valid() {
		return fmt.Sprintf("Elem(%d)", uint8(e))
	}
	return elemInfo[e].name
}

// Size returns the size of one element in bytes (0 for an invalid Elem).
func (e Elem) Size() int {
	if !e.valid() {
		return 0
	}
	return elemInfo[e].size
}

// DType returns the tensor element type that e decodes to: Float32 for the floating-point
// encodings, Int64 for the integer and boolean ones.
func (e Elem) DType() tensor.DType {
	if e.valid() && elemInfo[e].float {
		return tensor.Float32
	}
	return tensor.Int64
}

// Exact reports whether decoding e into its tensor DType keeps every value exactly. Only
// F64 is inexact: it is rounded to float32.
func (e Elem) Exact() bool { return e != F64 }

// ElemOf returns the encoding the writers use for a tensor DType: F32 for Float32, I64 for
// Int64.
func ElemOf(d tensor.DType) Elem {
	if d == tensor.Int64 {
		return I64
	}
	return F32
}

// CheckShape returns the number of elements of shape, or an error if a dimension is
// negative or the product overflows an int.
func CheckShape(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// Validate reports whether t is well formed: a known DType, a valid shape, and a data slice
// of exactly the shape's size for its DType.
func Validate(t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("nil tensor")
	}
	n, err := CheckShape(t.Shape)
	if err != nil {
		return err
	}
	switch t.DType {
	case tensor.Float32:
		if len(t.F32) != n {
			return fmt.Errorf("float32 tensor of shape %s has %d elements, want %d",
				tensor.ShapeString(t.Shape), len(t.F32), n)
		}
	case tensor.Int64:
		if len(t.I64) != n {
			return fmt.Errorf("int64 tensor of shape %s has %d elements, want %d",
				tensor.ShapeString(t.Shape), len(t.I64), n)
		}
	default:
		return fmt.Errorf("unknown tensor dtype %v", t.DType)
	}
	return nil
}

// chunkBytes is the size of the staging buffer used to stream-decode raw data.
const chunkBytes = 1 << 16

// ReadElems reads Numel(shape) elements of encoding e in byte order bo from r and returns
// them as a tensor of that shape (float32 or int64, see [Elem.DType]).
//
// avail is the number of bytes r is known to hold, or -1 if unknown. When it is known, too
// few bytes is an error before anything is allocated; when it is unknown, memory grows with
// the data actually read, so a hostile shape cannot force a huge allocation.
func ReadElems(r io.Reader, e Elem, bo binary.ByteOrder, shape []int, avail int64) (*tensor.Tensor, error) {
	if !e.valid() {
		return nil, fmt.Errorf("invalid element type %v", e)
	}
	n, err := CheckShape(shape)
	if err != nil {
		return nil, err
	}
	size := e.Size()
	if n > math.MaxInt64/size {
		return nil, fmt.Errorf("shape %v has too many elements", shape)
	}
	need := int64(n) * int64(size)
	if avail >= 0 && need > avail {
		return nil, fmt.Errorf("data truncated: %s[%s] needs %d bytes, %d present",
			e, tensor.ShapeString(shape), need, avail)
	}
	t := &tensor.Tensor{DType: e.DType(), Shape: append(make([]int, 0, len(shape)), shape...)}
	if avail < 0 && need > chunkBytes {
		// Unknown length: let the buffer grow with the bytes that really arrive.
		var buf bytes.Buffer
		m, err := io.CopyN(&buf, r, need)
		if err != nil {
			return nil, truncated(e, shape, need, m, err)
		}
		allocate(t, n)
		return t, decode(t, 0, e, bo, buf.Bytes())
	}
	allocate(t, n)
	chunk := make([]byte, min(need, chunkBytes)/int64(size)*int64(size))
	var done int64
	for i := 0; i < n; {
		k := min(n-i, len(chunk)/size)
		m, err := io.ReadFull(r, chunk[:k*size])
		if err != nil {
			return nil, truncated(e, shape, need, done+int64(m), err)
		}
		done += int64(m)
		if err := decode(t, i, e, bo, chunk[:k*size]); err != nil {
			return nil, err
		}
		i += k
	}
	return t, nil
}

func truncated(e Elem, shape []int, need, got int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("data truncated: %s[%s] needs %d bytes, %d present",
			e, tensor.ShapeString(shape), need, got)
	}
	return err
}

func allocate(t *tensor.Tensor, n int) {
	if t.DType == tensor.Float32 {
		t.F32 = make([]float32, n)
	} else {
		t.I64 = make([]int64, n)
	}
}

// decode converts the raw elements in src into t's data starting at element index at.
func decode(t *tensor.Tensor, at int, e Elem, bo binary.ByteOrder, src []byte) error {
	switch e {
	case F32:
		dst := t.F32[at : at+len(src)/4]
		for i := range dst {
			dst[i] = math.Float32frombits(bo.Uint32(src[4*i:]))
		}
	case F64:
		dst := t.F32[at : at+len(src)/8]
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(src[8*i:])))
		}
	case F16:
		dst := t.F32[at : at+len(src)/2]
		for i := range dst {
			dst[i] = HalfToFloat32(bo.Uint16(src[2*i:]))
		}
	case BF16:
		dst := t.F32[at : at+len(src)/2]
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(bo.Uint16(src[2*i:])) << 16)
		}
	case I64:
		dst := t.I64[at : at+len(src)/8]
		for i := range dst {
			dst[i] = int64(bo.Uint64(src[8*i:]))
		}
	case I32:
		dst := t.I64[at : at+len(src)/4]
		for i := range dst {
			dst[i] = int64(int32(bo.Uint32(src[4*i:])))
		}
	case I16:
		dst := t.I64[at : at+len(src)/2]
		for i := range dst {
			dst[i] = int64(int16(bo.Uint16(src[2*i:])))
		}
	case I8:
		dst := t.I64[at : at+len(src)]
		for i := range dst {
			dst[i] = int64(int8(src[i]))
		}
	case U64:
		dst := t.I64[at : at+len(src)/8]
		for i := range dst {
			v := bo.Uint64(src[8*i:])
			if v > math.MaxInt64 {
				return fmt.Errorf("uint64 value %d does not fit in int64", v)
			}
			dst[i] = int64(v)
		}
	case U32:
		dst := t.I64[at : at+len(src)/4]
		for i := range dst {
			dst[i] = int64(bo.Uint32(src[4*i:]))
		}
	case U16:
		dst := t.I64[at : at+len(src)/2]
		for i := range dst {
			dst[i] = int64(bo.Uint16(src[2*i:]))
		}
	case U8:
		dst := t.I64[at : at+len(src)]
		for i := range dst {
			dst[i] = int64(src[i])
		}
	case Bool:
		dst := t.I64[at : at+len(src)]
		for i := range dst {
			if src[i] != 0 {
				dst[i] = 1
			}
		}
	default:
		return fmt.Errorf("invalid element type %v", e)
	}
	return nil
}

// HalfToFloat32 converts an IEEE 754 half-precision bit pattern to float32 exactly,
// including subnormals, infinities and NaNs.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant · 2⁻²⁴, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// WriteElems writes the data of t to w as little-endian raw elements: float32 ('<f4') for a
// Float32 tensor, int64 ('<i8') for an Int64 tensor. It does not write a header.
func WriteElems(w io.Writer, t *tensor.Tensor) error {
	if err := Validate(t); err != nil {
		return err
	}
	buf := make([]byte, chunkBytes)
	switch t.DType {
	case tensor.Float32:
		for s := t.F32; len(s) > 0; {
			k := min(len(s), len(buf)/4)
			for i, v := range s[:k] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*k]); err != nil {
				return err
			}
			s = s[k:]
		}
	case tensor.Int64:
		for s := t.I64; len(s) > 0; {
			k := min(len(s), len(buf)/8)
			for i, v := range s[:k] {
				binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
			}
			if _, err := w.Write(buf[:8*k]); err != nil {
				return err
			}
			s = s[k:]
		}
	}
	return nil
}

// NumBytes returns the size of t's data as WriteElems writes it.
func NumBytes(t *tensor.Tensor) int64 {
	return int64(t.Len()) * int64(ElemOf(t.DType).Size())
}
