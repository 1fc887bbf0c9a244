package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// torchZipBytes builds a torch.save-style zip around a hand-written data.pkl, with the
// given storage records under archive/data/ in key order.
func torchZipBytes(pkl []byte, storages map[string][]byte, extra ...string) []byte {
	var buf bytes.Buffer
	z := &torchZip{w: &buf}
	z.recordBytes("archive/data.pkl", pkl)
	for _, k := range slices.Sorted(maps.Keys(storages)) {
		z.recordBytes("archive/data/"+k, storages[k])
	}
	for _, name := range extra {
		z.recordBytes(name, []byte("x"))
	}
	z.recordBytes("archive/version", []byte("3\n"))
	z.close()
	return buf.Bytes()
}

// zipOf returns a zip archive holding one stored entry.
func zipOf(name string, body []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	w.Write(body)
	zw.Close()
	return buf.Bytes()
}

// pickleOf runs f on a fresh protocol-2 pickler and returns the pickle with STOP.
func pickleOf(f func(p *pickler)) []byte {
	p := newPickler()
	f(p)
	p.op(opStop)
	return p.buf.Bytes()
}

// oneTensorDict is the pickle of {"w": <tensor>} with the tensor written by
// pickler.rebuildTensor.
func oneTensorDict(class string, numel, offset int, size, stride []int) []byte {
	return pickleOf(func(p *pickler) {
		p.op(opEmptyDict)
		p.put()
		p.str("w")
		p.rebuildTensor(class, "0", numel, offset, size, stride)
		p.op(opSetitem)
	})
}

func f32Bytes(vals ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, vals)
	return b.Bytes()
}

// safetensorsBytes builds a safetensors file from a header string and data.
func safetensorsBytes(hdr string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(out, hdr...), data...)
}

func TestBadInput(t *testing.T) {
	deploy, err := os.ReadFile(golden(t, "tiny_repvgg_deploy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), deploy...)
	flipped[2700] ^= 0xff // inside tiny_repvgg_deploy/data/0

	var npyBuf bytes.Buffer
	npy.Write(&npyBuf, tensor.FromF32([]float32{1}, 1))

	okStorage := map[string][]byte{"0": f32Bytes(1, 2, 3, 4)}
	module := pickleOf(func(p *pickler) { // torch.save(model): NEWOBJ + BUILD of the module's __dict__
		p.global("repvgg", "RepVGG")
		p.op(opEmptyTuple, opNewobj)
		p.put()
		p.op(opEmptyDict)
		p.put()
		p.str("training")
		p.op(opNewfalse, opSetitem, opBuild)
	})

	tests := []struct {
		name string // file name given to LoadBytes
		data []byte
		want string
	}{
		{"empty.pth", nil, "empty file, not a checkpoint"},
		{"garbage.pth", []byte("this is not a checkpoint at all"), "not a zip archive"},
		{"lorem.pth", []byte("Lorem ipsum dolor sit amet"), "not a zip archive"},
		{"garbage.weights", []byte("this is not a checkpoint at all"), "unrecognized checkpoint format"},
		{"half.pth", deploy[:len(deploy)/2], "truncated or corrupt zip archive"},
		{"cut.pth", deploy[:len(deploy)-10], "truncated or corrupt zip archive"},
		{"flipped.pth", flipped, `storage record "tiny_repvgg_deploy/data/0": corrupt zip archive (checksum mismatch)`},
		{"single.pth", npyBuf.Bytes(), "a single .npy array, not a checkpoint"},
		{"bare.pkl", []byte("\x80\x02]q\x00."), "a bare pickle stream, not a torch.save checkpoint"},
		{"list.pth", torchZipBytes(pickleOf(func(p *pickler) {
			p.op(opEmptyList)
			p.put()
			p.op(opMark)
			p.int(1)
			p.int(2)
			p.op(opAppends)
		}), nil), "pickle of the wrong kind: a list, not a dict of tensors"},
		{"module.pth", torchZipBytes(module, nil), "pickle of the wrong kind: a pickled repvgg.RepVGG object, not a dict of tensors (torch.save(model) pickles the whole module; save model.state_dict() instead)"},
		{"model_module.pth", torchZipBytes(pickleOf(func(p *pickler) {
			p.op(opEmptyDict)
			p.put()
			p.str("model")
			p.buf.Write(module[2 : len(module)-1])
			p.op(opSetitem)
		}), nil), `pickle of the wrong kind: key "model" holds a pickled repvgg.RepVGG object, not a state dict`},
		{"intkeys.pth", torchZipBytes(pickleOf(func(p *pickler) {
			p.op(opEmptyDict)
			p.put()
			p.int(3)
			p.str("x")
			p.op(opSetitem)
		}), nil), "pickle of the wrong kind: a dict with key the integer 3"},
		{"epoch.pth", torchZipBytes(pickleOf(func(p *pickler) {
			p.op(opEmptyDict)
			p.put()
			p.str("epoch")
			p.int(90)
			p.op(opSetitem)
		}), nil), `pickle of the wrong kind: key "epoch" holds the integer 90, not a tensor`},
		{"complex.pth", torchZipBytes(oneTensorDict("ComplexFloatStorage", 4, 0, []int{4}, []int{1}), okStorage),
			`key "w": unsupported storage type torch.ComplexFloatStorage`},
		{"nostorage.pth", torchZipBytes(oneTensorDict("FloatStorage", 4, 0, []int{4}, []int{1}), nil),
			`key "w": storage record "archive/data/0" is missing`},
		{"shortstorage.pth", torchZipBytes(oneTensorDict("FloatStorage", 8, 0, []int{8}, []int{1}), okStorage),
			`key "w": storage record "archive/data/0" holds 16 bytes, 8 float32 elements need 32`},
		{"hugestorage.pth", torchZipBytes(oneTensorDict("FloatStorage", 1<<62, 0, []int{4}, []int{1}), okStorage),
			`key "w": storage "0" claims 4611686018427387904 elements, more than any file holds`},
		{"view.pth", torchZipBytes(oneTensorDict("FloatStorage", 4, 1, []int{2, 2}, []int{2, 1}), okStorage),
			`key "w": view (offset 1, shape 2x2, stride [2 1]) exceeds its storage of 4 elements`},
		{"expand.pth", torchZipBytes(oneTensorDict("FloatStorage", 4, 0, []int{1 << 40, 4}, []int{0, 1}), okStorage),
			"tensors reference their storages too many times"},
		{"torchscript.pth", torchZipBytes(pickleOf(func(p *pickler) { p.op(opEmptyDict) }), nil, "archive/constants.pkl"),
			"a TorchScript archive (torch.jit.save), not a state dict"},
		{"badpickle.pth", torchZipBytes([]byte("\x80\x02}q\x00\xff."), nil), "malformed pickle: invalid pickle opcode 0xff at offset 5"},
		{"cutpickle.pth", torchZipBytes([]byte("\x80\x02}q\x00X\xff\xff\xff\x7f"), nil), "malformed pickle: pickle truncated at offset 5"},
		{"collide.pth", torchZipBytes(pickleOf(func(p *pickler) {
			p.global("collections", "OrderedDict")
			p.op(opEmptyTuple, opReduce)
			p.put()
			p.op(opMark)
			p.str("module.w")
			p.rebuildTensor("FloatStorage", "0", 4, 0, []int{4}, []int{1})
			p.str("w")
			p.rebuildTensor("FloatStorage", "0", 4, 0, []int{4}, []int{1})
			p.op(opSetitems)
		}), okStorage), `keys "module.w" and "w" are both "w" after stripping "module."`},
		{"text.npz", zipOf("notes.txt", []byte("hi")), "zip archive holds neither a PyTorch data.pkl nor .npy arrays"},
		{"entry.npz", zipOf("w.npy", []byte("garbage, not an array")), `entry "w.npy": not a .npy file`},
		{"complex.npz", zipOf("w.npy", []byte("\x93NUMPY\x01\x00\x39\x00{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }")), `entry "w.npy": unsupported dtype "<c8"`},
		{"bad.safetensors", safetensorsBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32Bytes(1)),
			"corrupt safetensors header: tensors cover 8 data bytes, the file holds 4"},
		{"long.safetensors", binary.LittleEndian.AppendUint64(nil, 1<<40), "corrupt safetensors header: header length 1099511627776 exceeds the 100000000-byte limit"},
		{"long2.safetensors", append(binary.LittleEndian.AppendUint64(nil, 5000), "{}"...), "corrupt safetensors header: header length 5000 exceeds the file size (10 bytes)"},
		{"tiny.safetensors", []byte("{}"), "corrupt safetensors header: the file is only 2 bytes"},
		{"json.safetensors", safetensorsBytes(`{"w":`, nil), "corrupt safetensors header: truncated JSON"},
		{"notobj.safetensors", safetensorsBytes(`[1, 2]`, nil), "corrupt safetensors header: not a JSON object"},
		{"dtype.safetensors", safetensorsBytes(`{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), `tensor "w": unsupported dtype "F8_E4M3"`},
		{"gap.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32Bytes(1, 2)), `tensor "a" starts at data byte 4, want 0`},
		{"overlap.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32Bytes(1, 2)), `tensor "b" starts at data byte 4, want 8`},
		{"span.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32Bytes(1, 2)), `tensor "a" spans 8 bytes, but float32[3] needs 12`},
		{"dup.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32Bytes(1, 2)), `duplicate key "a"`},
		{"field.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}`, f32Bytes(1)), `unknown field "extra"`},
		{"neg.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32Bytes(1)), `bad shape [-1]`},
		{"noshape.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32Bytes(1)), `tensor "a": no shape`},
		{"offsets.safetensors", safetensorsBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, f32Bytes(1)), `bad data_offsets [4 0]`},
		{"trail.safetensors", safetensorsBytes(`{} x`, nil), "trailing data after the JSON object"},
		{"meta.safetensors", safetensorsBytes(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
	}
	for _, tc := range tests {
		_, err := LoadBytes(tc.name, tc.data)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		msg := err.Error()
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Path != tc.name {
			t.Errorf("%s: %T %v is not a *FormatError for the file", tc.name, err, err)
		}
		t.Logf("%v", err)
		if !strings.HasPrefix(msg, tc.name+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error\n  %s\nwant one line containing\n  %s", tc.name, msg, tc.want)
		}
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pth")
	_, err := Load(missing)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || err.Error() != missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load(dir)
	if err == nil || err.Error() != dir+": is a directory, not a checkpoint file" {
		t.Errorf("directory: %v", err)
	}
	bad := &StateDict{Keys: []string{"w"}, Tensors: map[string]*tensor.Tensor{"w": {Shape: []int{3}, F32: []float32{1}}}}
	for _, ext := range []string{".pth", ".safetensors", ".npz"} {
		path := filepath.Join(dir, "bad"+ext)
		err := Save(path, bad)
		if err == nil || !strings.HasPrefix(err.Error(), path+`: key "w": float32 tensor of shape 3 has 1 elements, want 3`) {
			t.Errorf("%s: %v", ext, err)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Errorf("%s: a file was written for an invalid state dict", ext)
		}
	}
	if err := Save(filepath.Join(dir, "x.onnx"), New()); err == nil || !strings.Contains(err.Error(), "unknown checkpoint extension") {
		t.Errorf("unknown extension: %v", err)
	}
	if err := Save(filepath.Join(dir, "no", "such", "x.pth"), New()); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unwritable: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestStrided checks non-contiguous views: a transposed weight and a slice with an offset
// into a shared storage, as torch.save writes for such tensors.
func TestStrided(t *testing.T) {
	storage := map[string][]byte{"0": f32Bytes(0, 1, 2, 3, 4, 5)}
	pkl := pickleOf(func(p *pickler) {
		p.global("collections", "OrderedDict")
		p.op(opEmptyTuple, opReduce)
		p.put()
		p.op(opMark)
		p.str("t") // the transpose of [[0 1 2] [3 4 5]]
		p.rebuildTensor("FloatStorage", "0", 6, 0, []int{3, 2}, []int{1, 3})
		p.str("row") // the second row, sharing the storage
		p.rebuildTensor("FloatStorage", "0", 6, 3, []int{3}, []int{1})
		p.str("all") // the whole storage: may take it without copying
		p.rebuildTensor("FloatStorage", "0", 6, 0, []int{2, 3}, []int{3, 1})
		p.str("bcast") // an expanded view, stride 0
		p.rebuildTensor("FloatStorage", "0", 6, 1, []int{2, 2}, []int{0, 1})
		p.op(opSetitems)
	})
	sd, err := LoadBytes("strided.pth", torchZipBytes(pkl, storage))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"t": {0, 3, 1, 4, 2, 5}, "row": {3, 4, 5}, "all": {0, 1, 2, 3, 4, 5}, "bcast": {1, 2, 1, 2},
	}
	for k, w := range want {
		got, _ := sd.Get(k)
		if !sameBits(got, tensor.FromF32(w, len(w))) {
			t.Errorf("%s: got %v, want %v", k, got.F32, w)
		}
	}
	// Views must not alias each other: writing one leaves the others alone.
	sd.Tensors["all"].F32[3] = 99
	if sd.Tensors["row"].F32[0] != 3 || sd.Tensors["t"].F32[1] != 3 {
		t.Error("views share memory")
	}
}

// TestPanicsBecomeErrors feeds gopickle inputs known to make it panic (odd SETITEMS, an
// unhashable OrderedDict key) and checks that Load returns an error instead.
func TestPanicsBecomeErrors(t *testing.T) {
	for name, pkl := range map[string][]byte{
		"odd-setitems": []byte("\x80\x02}(X\x01\x00\x00\x00au."),
		"unhashable":   []byte("\x80\x02ccollections\nOrderedDict\n)RC\x01xK\x01s."),
	} {
		_, err := LoadBytes(name+".pth", torchZipBytes(pkl, nil))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}
