package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"

	"github.com/vggsim/vggsim/tensor"
)

// pickler is a minimal pickle protocol 2 encoder that memoizes exactly as CPython's
// pickle.Pickler does for the objects torch.save writes, so that its output matches
// torch.save's byte for byte.
type pickler struct {
	buf     bytes.Buffer
	memoLen int            // number of memo entries so far
	globals map[string]int // "module\nname" → memo index
	shared  map[string]int // strings that are one Python object (e.g. 'storage') → memo index
}

func newPickler() *pickler {
	p := &pickler{globals: map[string]int{}, shared: map[string]int{}}
	p.buf.Write([]byte{opProto, 2})
	return p
}

func (p *pickler) op(b ...byte) { p.buf.Write(b) }

// put memoizes the object just written (BINPUT, or LONG_BINPUT from index 256 on).
func (p *pickler) put() int {
	idx := p.memoLen
	p.memoLen++
	if idx < 256 {
		p.op(opBinput, byte(idx))
	} else {
		p.op(opLongBinput)
		p.buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(idx)))
	}
	return idx
}

// get pushes memo entry idx (BINGET or LONG_BINGET).
func (p *pickler) get(idx int) {
	if idx < 256 {
		p.op(opBinget, byte(idx))
	} else {
		p.op(opLongBinget)
		p.buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(idx)))
	}
}

// global pushes module.name, memoized like any class object.
func (p *pickler) global(module, name string) {
	key := module + "\n" + name
	if idx, ok := p.globals[key]; ok {
		p.get(idx)
		return
	}
	p.op(opGlobal)
	p.buf.WriteString(key + "\n")
	p.globals[key] = p.put()
}

// str pushes a new str object (BINUNICODE) and memoizes it.
func (p *pickler) str(s string) {
	p.op(opBinunicode)
	p.buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.buf.WriteString(s)
	p.put()
}

// sharedStr pushes s, reusing the memo for later occurrences, as CPython does for string
// constants that are one object ('storage', 'cpu' in torch.save).
func (p *pickler) sharedStr(s string) {
	if idx, ok := p.shared[s]; ok {
		p.get(idx)
		return
	}
	p.str(s)
	p.shared[s] = p.memoLen - 1
}

// int pushes v with the smallest opcode CPython's save_long would pick for protocol 2.
func (p *pickler) int(v int64) {
	switch {
	case v >= 0 && v <= 0xff:
		p.op(opBinint1, byte(v))
	case v >= 0 && v <= 0xffff:
		p.op(opBinint2, byte(v), byte(v>>8))
	case v >= -1<<31 && v < 1<<31:
		p.op(opBinint)
		p.buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(v))))
	default:
		enc := encodeLong(v)
		p.op(opLong1, byte(len(enc)))
		p.buf.Write(enc)
	}
}

// encodeLong is CPython's pickle.encode_long: the little-endian two's-complement encoding
// of v in bit_length/8+1 bytes, with a redundant 0xff top byte dropped for negative v.
func encodeLong(v int64) []byte {
	if v == 0 {
		return nil
	}
	abs := uint64(v)
	if v < 0 {
		abs = uint64(-(v + 1)) + 1
	}
	n := bits.Len64(abs)/8 + 1
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(v >> min(8*i, 63))
	}
	if v < 0 && n > 1 && out[n-1] == 0xff && out[n-2]&0x80 != 0 {
		out = out[:n-1]
	}
	return out
}

// intTuple pushes a tuple of ints the way save_tuple does: EMPTY_TUPLE (not memoized),
// TUPLE1/2/3, or MARK … TUPLE, then memoizes it.
func (p *pickler) intTuple(vals []int) {
	if len(vals) == 0 {
		p.op(opEmptyTuple)
		return
	}
	if len(vals) > 3 {
		p.op(opMark)
	}
	for _, v := range vals {
		p.int(int64(v))
	}
	switch len(vals) {
	case 1:
		p.op(opTuple1)
	case 2:
		p.op(opTuple2)
	case 3:
		p.op(opTuple3)
	default:
		p.op(opTuple)
	}
	p.put()
}

// setitemsBatch is CPython's Pickler._BATCHSIZE.
const setitemsBatch = 1000

// items writes n dict items in CPython's batches: MARK … SETITEMS for batches of two or
// more, a bare SETITEM for a batch of one.
func (p *pickler) items(n int, item func(i int)) {
	for start := 0; start < n; start += setitemsBatch {
		end := min(start+setitemsBatch, n)
		if end-start > 1 {
			p.op(opMark)
		}
		for i := start; i < end; i++ {
			item(i)
		}
		if end-start > 1 {
			p.op(opSetitems)
		} else {
			p.op(opSetitem)
		}
	}
}

// pthOptions are writer variations used by tests to produce the checkpoints other tools
// write: a {"state_dict": …} wrapper and plain-dict state dicts.
type pthOptions struct {
	wrapper   string // wrap the state dict as {wrapper: sd}
	plainDict bool   // write the state dict as a dict instead of an OrderedDict
}

// encodeStateDict returns the data.pkl torch.save writes for sd (an OrderedDict of
// _rebuild_tensor_v2 calls on persistent-id storages "0", "1", … in key order), except for
// the state_dict's _metadata attribute, which needs the module tree and is optional.
func encodeStateDict(sd *StateDict, opt pthOptions) []byte {
	p := newPickler()
	if opt.wrapper != "" {
		p.op(opEmptyDict)
		p.put()
		p.items(1, func(int) {
			p.str(opt.wrapper)
			p.stateDict(sd, opt)
		})
	} else {
		p.stateDict(sd, opt)
	}
	p.op(opStop)
	return p.buf.Bytes()
}

func (p *pickler) stateDict(sd *StateDict, opt pthOptions) {
	if opt.plainDict {
		p.op(opEmptyDict)
	} else {
		p.global("collections", "OrderedDict")
		p.op(opEmptyTuple, opReduce)
	}
	p.put()
	p.items(len(sd.Keys), func(i int) {
		p.str(sd.Keys[i])
		p.tensor(sd.Tensors[sd.Keys[i]], storageKey(i))
	})
}

// storageKey is the persistent-id key torch.save gives the i-th storage it meets.
func storageKey(i int) string { return strconv.Itoa(i) }

// tensor writes t as a contiguous view of the whole storage key: FloatStorage or
// LongStorage by dtype, offset 0, C-order strides.
func (p *pickler) tensor(t *tensor.Tensor, key string) {
	class := "FloatStorage"
	if t.DType == tensor.Int64 {
		class = "LongStorage"
	}
	p.rebuildTensor(class, key, t.Len(), 0, t.Shape, contiguousStrides(t.Shape))
}

// rebuildTensor writes
//
//	torch._utils._rebuild_tensor_v2(
//	    persistent_load(('storage', torch.<class>, key, 'cpu', numel)),
//	    offset, size, stride, False, collections.OrderedDict())
func (p *pickler) rebuildTensor(class, key string, numel, offset int, size, stride []int) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark)
	p.sharedStr("storage")
	p.global("torch", class)
	p.str(key)
	p.sharedStr("cpu")
	p.int(int64(numel))
	p.op(opTuple)
	p.put()
	p.op(opBinpersid)
	p.int(int64(offset))
	p.intTuple(size)
	p.intTuple(stride)
	p.op(opNewfalse)
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce)
	p.put()
	p.op(opTuple)
	p.put()
	p.op(opReduce)
	p.put()
}

// contiguousStrides returns the C-order strides of shape, as PyTorch reports them (a
// dimension of size 0 or 1 still gets the product of the later sizes).
func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= max(shape[i], 1)
	}
	return st
}
