package checkpoint

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/tensor"
)

// fuzzStorages are the storage records FuzzPickle puts beside the fuzzed data.pkl: keys
// "0"…"7", 256 bytes each (64 float32 or 32 int64 elements).
var fuzzStorages = func() map[string][]byte {
	m := map[string][]byte{}
	for i := range 8 {
		b := make([]byte, 256)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		m[storageKey(i)] = b
	}
	return m
}()

// pickleZip wraps pkl as archive/data.pkl of a torch.save zip, with fuzzStorages under
// archive/data/ and a version record, all with correct checksums.
func pickleZip(pkl []byte) []byte { return torchZipBytes(pkl, fuzzStorages) }

// goldenPickle returns the data.pkl record of a golden checkpoint, or nil.
func goldenPickle(name string) []byte {
	b, err := os.ReadFile(tinygolden.Path(name))
	if err != nil {
		return nil
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			rc, err := f.Open()
			if err != nil {
				return nil
			}
			defer rc.Close()
			p, _ := io.ReadAll(rc)
			return p
		}
	}
	return nil
}

// FuzzPickle fuzzes the pickle layer of the .pth reader directly: the input is data.pkl,
// wrapped in a well-formed zip (FuzzLoadPTH mutates whole archives, where almost every
// change to data.pkl is caught by the zip checksum before the pickle is read). Seeds:
// state dicts as SavePTH pickles them (OrderedDict, plain dict, wrapped, int64 and 0-d
// tensors), torch's own data.pkl of both golden checkpoints, CPython pickles of every
// value kind and protocol, and pickles of the wrong kind (a list, a module).
func FuzzPickle(f *testing.F) {
	small := New()
	small.Set("a.weight", tensor.FromF32(seq(2*3*2*2), 2, 3, 2, 2))
	small.Set("a.bias", tensor.FromF32(seq(2), 2))
	small.Set("bn.num_batches_tracked", tensor.FromI64([]int64{3}))
	small.Set("s", tensor.FromF32([]float32{1}))
	for _, opt := range []pthOptions{{}, {plainDict: true}, {wrapper: "state_dict"}, {wrapper: "model", plainDict: true}} {
		f.Add(encodeStateDict(small, opt))
	}
	f.Add(encodeStateDict(manySD(3), pthOptions{}))
	for _, name := range []string{"tiny_repvgg_train.pth", "tiny_repvgg_deploy.pth"} {
		if p := goldenPickle(name); p != nil {
			f.Add(p)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "pickles", "*.pkl"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x80\x02]q\x00(K\x01K\x02e."))
	f.Add([]byte("\x80\x02crepvgg\nRepVGG\nq\x00)\x81q\x01}q\x02(X\x08\x00\x00\x00trainingq\x03\x88" +
		"X\x0b\x00\x00\x00_parametersq\x04ccollections\nOrderedDict\nq\x05)Rq\x06ub."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		checkLoaded(t, "f.pth", pickleZip(pkl), writePTHBuf)
	})
}

// TestPickleZipSeeds checks that FuzzPickle's harness loads its well-formed seeds, so the
// fuzzer starts from inputs that reach the tensor code.
func TestPickleZipSeeds(t *testing.T) {
	small := New()
	small.Set("w", tensor.FromF32(seq(6), 2, 3))
	small.Set("n", tensor.FromI64([]int64{5}))
	sd, err := LoadBytes("seed.pth", pickleZip(encodeStateDict(small, pthOptions{wrapper: "state_dict"})))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sd.Keys, ",") != "w,n" || sd.Tensors["w"].String() != "float32[2x3]" || sd.Tensors["n"].String() != "int64[scalar]" {
		t.Errorf("loaded %v", sd.Keys)
	}
	_, err = LoadBytes("list.pth", pickleZip([]byte("\x80\x02]q\x00(K\x01K\x02e.")))
	if err == nil || err.Error() != "list.pth: pickle of the wrong kind: a list, not a dict of tensors" {
		t.Errorf("list: %v", err)
	}
}
