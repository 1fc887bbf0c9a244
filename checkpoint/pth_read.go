package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// This file reads torch.save output. The pickle is executed by gopickle's unpickler with
// our own class table and persistent_load, so that only the objects a state dict needs are
// understood (tensors, storages, OrderedDict) and everything else becomes an inert
// opaqueObject. Storages are read lazily: only tensors that end up in the state dict are
// decoded, so an optimizer state next to the weights costs nothing.

// storageElems maps PyTorch's typed storage classes to their element encodings.
var storageElems = map[string]npy.Elem{
	"FloatStorage":    npy.F32,
	"DoubleStorage":   npy.F64,
	"HalfStorage":     npy.F16,
	"BFloat16Storage": npy.BF16,
	"LongStorage":     npy.I64,
	"IntStorage":      npy.I32,
	"ShortStorage":    npy.I16,
	"CharStorage":     npy.I8,
	"ByteStorage":     npy.U8,
	"BoolStorage":     npy.Bool,
}

// storageClass is a torch.*Storage class; elem is 0 for storage types we cannot decode.
type storageClass struct {
	name string
	elem npy.Elem
}

// storageRef is a storage named by a persistent id: key is its record name in the archive.
type storageRef struct {
	class *storageClass
	key   string
	numel int
	off   int            // legacy format: offset of the raw data in the stream
	data  *tensor.Tensor // decoded flat data, once read
	taken bool           // data has been handed out as a tensor without copying
}

// tensorRef is the result of torch._utils._rebuild_tensor_v2: a strided view of a storage.
type tensorRef struct {
	storage      *storageRef
	offset       int
	size, stride []int
}

// PySetState accepts and ignores state set on a tensor by BUILD.
func (*tensorRef) PySetState(any) error { return nil }

// rebuildTensor is torch._utils._rebuild_tensor_v2 (v2) or the older _rebuild_tensor.
type rebuildTensor struct{ v2 bool }

// Call builds a tensorRef from (storage, storage_offset, size, stride[, requires_grad,
// backward_hooks[, metadata]]).
func (f *rebuildTensor) Call(args ...any) (any, error) {
	name := "_rebuild_tensor"
	if f.v2 {
		name = "_rebuild_tensor_v2"
	}
	if (f.v2 && len(args) != 6 && len(args) != 7) || (!f.v2 && len(args) != 4) {
		return nil, fmt.Errorf("%s called with %d arguments", name, len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("%s: storage argument is %s", name, describe(args[0]))
	}
	off, ok1 := asInt(args[1])
	size, ok2 := intTuple(args[2])
	stride, ok3 := intTuple(args[3])
	if !ok1 || !ok2 || !ok3 || len(size) != len(stride) {
		return nil, fmt.Errorf("%s: bad offset, size or stride", name)
	}
	return &tensorRef{storage: s, offset: off, size: size, stride: stride}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter[_with_state]: a Parameter is its data.
type rebuildParameter struct{}

// Call returns the parameter's data argument.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter called without arguments")
	}
	return args[0], nil
}

// sizeClass is torch.Size, a tuple subclass.
type sizeClass struct{}

// Call returns the tuple torch.Size was built from.
func (sizeClass) Call(args ...any) (any, error) {
	if len(args) == 1 {
		if t, ok := args[0].(*types.Tuple); ok {
			return t, nil
		}
	}
	return &opaqueObject{class: &opaqueClass{"torch", "Size"}}, nil
}

// unsupportedRebuild is a torch._utils._rebuild_* function for a tensor kind we do not read
// (quantized, sparse, meta, nested, …). Calling it yields an unsupportedTensor, which is an
// error only if it ends up in the state dict.
type unsupportedRebuild struct{ name string }

type unsupportedTensor struct{ fn string }

// Call returns a placeholder for the unsupported tensor.
func (f *unsupportedRebuild) Call(...any) (any, error) {
	return &unsupportedTensor{printable(f.name)}, nil
}

// opaqueClass is any other Python class or function a pickle names. Instances are inert.
type opaqueClass struct{ module, name string }

func (c *opaqueClass) String() string { return printable(c.module + "." + c.name) }

// printable returns s if it is printable text and its Go quoting otherwise, so that names
// read from a file cannot break an error message across lines.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Call returns an inert instance.
func (c *opaqueClass) Call(...any) (any, error) { return &opaqueObject{class: c}, nil }

// PyNew returns an inert instance.
func (c *opaqueClass) PyNew(...any) (any, error) { return &opaqueObject{class: c}, nil }

// opaqueObject is an instance of an opaqueClass. It accepts and drops whatever the pickle
// does to it, so that unrelated objects in a checkpoint (optimizer state, argparse
// namespaces, numpy scalars) do not stop the state dict from loading.
type opaqueObject struct{ class *opaqueClass }

// Call returns another inert object.
func (o *opaqueObject) Call(...any) (any, error) { return &opaqueObject{class: o.class}, nil }

// PySetState ignores the state.
func (*opaqueObject) PySetState(any) error { return nil }

// Set ignores a dict item.
func (*opaqueObject) Set(_, _ any) {}

// Append ignores a list item.
func (*opaqueObject) Append(any) {}

// torchLoader executes PyTorch pickles and turns their result into a StateDict.
type torchLoader struct {
	legacy      bool
	byteOrder   binary.ByteOrder
	storages    map[string]*storageRef
	readStorage func(s *storageRef) (*tensor.Tensor, error)
	decoded     int64 // storage elements decoded so far
	produced    int64 // tensor elements handed out so far
	info        *Info
	c           *loadCtx
}

func newTorchLoader(info *Info, legacy bool, c *loadCtx) *torchLoader {
	return &torchLoader{legacy: legacy, byteOrder: binary.LittleEndian,
		storages: map[string]*storageRef{}, info: info, c: c}
}

func (l *torchLoader) findClass(module, name string) (any, error) {
	full := module + "." + name
	switch full {
	case "torch._utils._rebuild_tensor_v2":
		return &rebuildTensor{v2: true}, nil
	case "torch._utils._rebuild_tensor":
		return &rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return rebuildParameter{}, nil
	case "torch.Size":
		return sizeClass{}, nil
	}
	if (module == "torch" || module == "torch.cuda") && strings.HasSuffix(name, "Storage") {
		return &storageClass{name: printable(full), elem: storageElems[name]}, nil
	}
	if module == "torch._utils" && strings.HasPrefix(name, "_rebuild_") {
		return &unsupportedRebuild{full}, nil
	}
	return &opaqueClass{module, name}, nil
}

// persistentLoad resolves ('storage', storage_type, key, location, numel) (the zip format)
// or ('storage', storage_type, root_key, location, numel, view_metadata) (legacy).
func (l *torchLoader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() == 0 {
		return nil, fmt.Errorf("unsupported persistent id %s", describe(pid))
	}
	switch t.Get(0) {
	case "storage":
	case "module":
		if l.legacy {
			return &opaqueObject{class: &opaqueClass{"torch.nn", "Module"}}, nil
		}
		fallthrough
	default:
		return nil, fmt.Errorf("unsupported persistent id %s", describe(t.Get(0)))
	}
	want := 5
	if l.legacy {
		want = 6
	}
	if t.Len() != want {
		return nil, fmt.Errorf("storage persistent id has %d fields, want %d", t.Len(), want)
	}
	cls, ok := t.Get(1).(*storageClass)
	if !ok {
		return nil, fmt.Errorf("unsupported storage type %s", describe(t.Get(1)))
	}
	key, ok1 := t.Get(2).(string)
	_, ok2 := t.Get(3).(string)
	numel, ok3 := asInt(t.Get(4))
	if !ok1 || !ok2 || !ok3 || numel < 0 {
		return nil, fmt.Errorf("malformed storage persistent id")
	}
	if l.legacy && t.Get(5) != nil {
		return nil, fmt.Errorf("storage views of the pre-1.6 format are not supported")
	}
	if s, ok := l.storages[key]; ok {
		if s.class.name != cls.name || s.numel != numel {
			return nil, fmt.Errorf("storage %q is declared twice with different types or sizes", key)
		}
		return s, nil
	}
	s := &storageRef{class: cls, key: key, numel: numel}
	l.storages[key] = s
	return s, nil
}

// unpickle scans and executes the pickle at the start of data and returns the object and
// the pickle's length.
func (l *torchLoader) unpickle(data []byte) (any, int, error) {
	n, err := scanPickleLimits(data, l.c.lim)
	if err != nil {
		return nil, 0, errorf("malformed pickle: %v", err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(data[:n]))
	u.FindClass = l.findClass
	u.PersistentLoad = l.persistentLoad
	obj, err := u.Load()
	if err != nil {
		return nil, 0, errorf("malformed pickle: %v", err)
	}
	return obj, n, nil
}

// loadTorchZip reads a PyTorch ≥ 1.6 checkpoint whose data.pkl record is pkl.
func loadTorchZip(zr *zip.Reader, pkl *zip.File, size int64, info *Info, c *loadCtx) (*StateDict, error) {
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	records := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		records[f.Name] = f
	}
	l := newTorchLoader(info, false, c)
	if f := records[prefix+"byteorder"]; f != nil {
		b, err := readRecord(f, size, 16)
		if err != nil {
			return nil, err
		}
		switch string(b) {
		case "little":
		case "big":
			l.byteOrder = binary.BigEndian
		default:
			return nil, errorf("unknown byteorder record %q", b)
		}
	}
	data, err := readRecord(pkl, size, maxPickleLength)
	if err != nil {
		return nil, err
	}
	obj, _, err := l.unpickle(data)
	if err != nil {
		return nil, err
	}
	l.readStorage = func(s *storageRef) (*tensor.Tensor, error) {
		name := prefix + "data/" + s.key
		f := records[name]
		if f == nil {
			return nil, errorf("storage record %q is missing", name)
		}
		if err := npy.CheckZipEntry(f, size); err != nil {
			return nil, errorf("%v", err)
		}
		esize := s.class.elem.Size()
		if s.numel > math.MaxInt64/esize {
			return nil, errorf("storage %q claims %d elements, more than any file holds", s.key, s.numel)
		}
		if need := s.numel * esize; uint64(need) > f.UncompressedSize64 {
			return nil, errorf("storage record %q holds %d bytes, %d %s elements need %d",
				name, f.UncompressedSize64, s.numel, s.class.elem, need)
		}
		if err := l.c.bud.charge(int64(f.UncompressedSize64), fmt.Sprintf("storage record %q", name)); err != nil {
			return nil, err
		}
		rc, err := f.Open()
		if err != nil {
			return nil, errorf("%s", npy.ZipError(err))
		}
		defer rc.Close()
		t, err := npy.ReadElems(rc, s.class.elem, l.byteOrder, []int{s.numel}, int64(f.UncompressedSize64))
		if err == nil {
			_, err = io.Copy(io.Discard, rc) // lets archive/zip verify the checksum
		}
		if err != nil {
			return nil, errorf("storage record %q: %s", name, zipOrMsg(err))
		}
		return t, nil
	}
	return l.stateDict(obj)
}

// zipOrMsg describes an error from reading a zip entry.
func zipOrMsg(err error) string {
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
		return npy.ZipError(err)
	}
	return err.Error()
}

// readRecord reads a whole zip entry of at most limit bytes.
func readRecord(f *zip.File, archiveSize int64, limit int64) ([]byte, error) {
	if err := npy.CheckZipEntry(f, archiveSize); err != nil {
		return nil, errorf("%v", err)
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, errorf("record %q is too large (%d bytes)", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, errorf("%s", npy.ZipError(err))
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, errorf("record %q: %s", f.Name, npy.ZipError(err))
	}
	return b, nil
}

// legacyMagic is the number torch.save wrote first in the pre-1.6 format.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// errNotLegacy reports that a pickle stream does not start with legacyMagic.
var errNotLegacy = errors.New("not a legacy PyTorch file")

func isLegacyMagic(v any) bool {
	n, ok := v.(*big.Int)
	return ok && n.Cmp(legacyMagic) == 0
}

// loadLegacy reads the pre-1.6 torch.save stream: pickles of the magic number, the
// protocol version (1001) and system info, then the object, then the list of storage keys,
// then each storage as an int64 element count followed by its raw bytes.
func loadLegacy(r io.ReaderAt, size int64, info *Info, c *loadCtx) (*StateDict, error) {
	// The magic number's pickle is at most 29 bytes; look at it before reading everything.
	head := make([]byte, min(size, 64))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	l := newTorchLoader(info, true, c)
	if magic, _, err := l.unpickle(head); err != nil || !isLegacyMagic(magic) {
		return nil, errNotLegacy
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, err
	}
	off := 0
	next := func() (any, error) {
		obj, n, err := l.unpickle(data[off:])
		off += n
		return obj, err
	}
	next() // the magic number, checked above
	info.Format, info.Legacy = PyTorch, true
	if v, err := next(); err != nil || v != 1001 {
		return nil, errorf("unsupported legacy PyTorch protocol version %s", describe(v))
	}
	sys, err := next()
	if err != nil {
		return nil, err
	}
	if items, ok := dictItems(sys); ok {
		for _, it := range items {
			if it.key == "little_endian" && it.value == false {
				l.byteOrder = binary.BigEndian
			}
		}
	}
	obj, err := next()
	if err != nil {
		return nil, err
	}
	keysObj, err := next()
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, errorf("malformed legacy checkpoint: storage key list is %s", describe(keysObj))
	}
	for _, k := range *keys {
		key, _ := k.(string)
		s := l.storages[key]
		if s == nil {
			return nil, errorf("malformed legacy checkpoint: unknown storage key %s", describe(k))
		}
		esize := s.class.elem.Size()
		if esize == 0 {
			return nil, errorf("unsupported storage type %s", s.class.name)
		}
		if len(data)-off < 8 {
			return nil, errorf("legacy checkpoint truncated in storage %q", key)
		}
		n := l.byteOrder.Uint64(data[off:])
		if n != uint64(s.numel) || uint64(s.numel) > uint64(len(data)-off-8)/uint64(esize) {
			return nil, errorf("legacy checkpoint truncated or corrupt in storage %q", key)
		}
		s.off = off + 8
		off = s.off + s.numel*esize
	}
	l.readStorage = func(s *storageRef) (*tensor.Tensor, error) {
		if s.off == 0 {
			return nil, errorf("storage %q has no data in the legacy stream", s.key)
		}
		need := s.numel * s.class.elem.Size()
		return npy.ReadElems(bytes.NewReader(data[s.off:s.off+need]), s.class.elem, l.byteOrder,
			[]int{s.numel}, int64(need))
	}
	return l.stateDict(obj)
}

// wrapperKeys are the keys a training script commonly wraps a state dict in, in order of
// preference.
var wrapperKeys = []string{"state_dict", "model"}

// stateDict unwraps obj and converts it to a StateDict, materializing every tensor.
func (l *torchLoader) stateDict(obj any) (*StateDict, error) {
	items, ok := dictItems(obj)
	if !ok {
		return nil, wrongKind(obj)
	}
	for depth := 0; depth < 4; depth++ {
		inner, key, err := unwrap(items)
		if err != nil {
			return nil, err
		}
		if inner == nil {
			break
		}
		items = inner
		if l.info.Wrapper != "" {
			l.info.Wrapper += "."
		}
		l.info.Wrapper += key
	}
	sd := New()
	for _, it := range items {
		key, ok := it.key.(string)
		if !ok {
			return nil, errorf("pickle of the wrong kind: a dict with key %s, but a state dict has string keys", describe(it.key))
		}
		ref, ok := it.value.(*tensorRef)
		if !ok {
			if u, isU := it.value.(*unsupportedTensor); isU {
				return nil, errorf("key %q: unsupported tensor kind (%s)", key, u.fn)
			}
			return nil, errorf("pickle of the wrong kind: key %q holds %s, not a tensor", key, describe(it.value))
		}
		t, err := l.materialize(ref)
		if err != nil {
			return nil, errorf("key %q: %v", key, err)
		}
		l.info.noteConversion(key, ref.storage.class.elem)
		sd.Set(key, t)
	}
	return sd, nil
}

// unwrap returns the items of the wrapped state dict if items has a wrapper key holding a
// dict, or nil if there is none.
func unwrap(items []dictItem) ([]dictItem, string, error) {
	for _, wk := range wrapperKeys {
		for _, it := range items {
			if it.key != wk {
				continue
			}
			if inner, ok := dictItems(it.value); ok {
				return inner, wk, nil
			}
			if o, ok := it.value.(*opaqueObject); ok {
				return nil, "", errorf("pickle of the wrong kind: key %q holds a pickled %s object, not a state dict (save model.state_dict() instead)", wk, o.class)
			}
		}
	}
	return nil, "", nil
}

// wrongKind describes a top-level pickle that is not a dict.
func wrongKind(obj any) error {
	switch o := obj.(type) {
	case *opaqueObject:
		return errorf("pickle of the wrong kind: a pickled %s object, not a dict of tensors (torch.save(model) pickles the whole module; save model.state_dict() instead)", o.class)
	case *tensorRef:
		return errorf("pickle of the wrong kind: a single tensor, not a dict of tensors")
	}
	return errorf("pickle of the wrong kind: %s, not a dict of tensors", describe(obj))
}

// materialize decodes the storage behind r and returns the tensor view it describes.
func (l *torchLoader) materialize(r *tensorRef) (*tensor.Tensor, error) {
	s := r.storage
	if s.class.elem == 0 {
		return nil, fmt.Errorf("unsupported storage type %s", s.class.name)
	}
	numel, err := npy.CheckShape(r.size)
	if err != nil {
		return nil, err
	}
	if r.offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", r.offset)
	}
	last := r.offset // index of the last element the view touches
	for i, d := range r.size {
		st := r.stride[i]
		if st < 0 {
			return nil, fmt.Errorf("negative stride %v", r.stride)
		}
		if d > 1 && st > 0 {
			if st > (math.MaxInt-last)/(d-1) {
				return nil, fmt.Errorf("stride %v overflows", r.stride)
			}
			last += (d - 1) * st
		}
	}
	if (numel > 0 && last >= s.numel) || r.offset > s.numel {
		return nil, fmt.Errorf("view (offset %d, shape %s, stride %v) exceeds its storage of %d elements",
			r.offset, tensor.ShapeString(r.size), r.stride, s.numel)
	}
	if s.data == nil {
		t, err := l.readStorage(s)
		if err != nil {
			return nil, err
		}
		s.data = t
		l.decoded += int64(s.numel)
	}
	l.produced += int64(numel)
	if l.produced > 2*l.decoded+1<<20 {
		return nil, fmt.Errorf("tensors reference their storages too many times (%d elements from %d stored)",
			l.produced, l.decoded)
	}
	out := &tensor.Tensor{DType: s.data.DType, Shape: append(make([]int, 0, len(r.size)), r.size...)}
	if r.offset == 0 && numel == s.numel && contiguous(r.size, r.stride) && !s.taken {
		s.taken = true
		out.F32, out.I64 = s.data.F32, s.data.I64
		return out, nil
	}
	esize := int64(4)
	if out.DType == tensor.Int64 {
		esize = 8
	}
	if err := l.c.bud.charge(int64(numel)*esize, "a copy of a storage view"); err != nil {
		return nil, err
	}
	if out.DType == tensor.Float32 {
		out.F32 = gather(make([]float32, numel), s.data.F32, r.offset, r.size, r.stride)
	} else {
		out.I64 = gather(make([]int64, numel), s.data.I64, r.offset, r.size, r.stride)
	}
	return out, nil
}

// contiguous reports whether stride is the C-order stride of size (ignoring dimensions of
// size 1, whose stride does not matter).
func contiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// gather copies the strided view (offset, size, stride) of src into dst in C order.
func gather[T any](dst, src []T, offset int, size, stride []int) []T {
	if len(dst) == 0 {
		return dst
	}
	if contiguous(size, stride) {
		copy(dst, src[offset:offset+len(dst)])
		return dst
	}
	idx := make([]int, len(size))
	at := offset
	for i := range dst {
		dst[i] = src[at]
		for d := len(size) - 1; d >= 0; d-- {
			idx[d]++
			at += stride[d]
			if idx[d] < size[d] {
				break
			}
			at -= stride[d] * size[d]
			idx[d] = 0
		}
	}
	return dst
}

// dictItem is one key/value pair of a pickled dict.
type dictItem struct{ key, value any }

// dictItems returns the items of a pickled dict or OrderedDict in order, and false for
// anything else. For a plain dict with repeated keys the last value wins, in the position of
// the first, as in Python.
func dictItems(obj any) ([]dictItem, bool) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		items := make([]dictItem, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			if en, ok := e.Value.(*types.OrderedDictEntry); ok {
				items = append(items, dictItem{en.Key, en.Value})
			}
		}
		return items, true
	case *types.Dict:
		items := make([]dictItem, 0, len(*d))
		pos := map[any]int{}
		for _, e := range *d {
			if k, ok := e.Key.(string); ok {
				if i, dup := pos[k]; dup {
					items[i].value = e.Value
					continue
				}
				pos[k] = len(items)
			}
			items = append(items, dictItem{e.Key, e.Value})
		}
		return items, true
	}
	return nil, false
}

// describe names the kind of a pickled value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return "a bool"
	case int, *big.Int:
		return fmt.Sprintf("the integer %v", x)
	case float64:
		return "a float"
	case []byte:
		return "a bytes object"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *tensorRef:
		return "a tensor"
	case *storageRef:
		return "a bare storage"
	case *storageClass:
		return "the class " + x.name
	case *opaqueObject:
		return "a pickled " + x.class.String() + " object"
	case *opaqueClass:
		return "the class " + x.String()
	case *unsupportedTensor:
		return "an unsupported tensor (" + x.fn + ")"
	}
	return fmt.Sprintf("a %T", v)
}

// asInt converts a pickled integer to int.
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *big.Int:
		if x.IsInt64() && x.Int64() <= math.MaxInt && x.Int64() >= math.MinInt {
			return int(x.Int64()), true
		}
	}
	return 0, false
}

// intTuple converts a pickled tuple of integers to []int.
func intTuple(v any) ([]int, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int, t.Len())
	for i := range out {
		if out[i], ok = asInt(t.Get(i)); !ok {
			return nil, false
		}
	}
	return out, true
}
