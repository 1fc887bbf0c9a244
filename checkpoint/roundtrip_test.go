package checkpoint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vggsim/vggsim/tensor"
)

// edgeSD is a state dict with the awkward cases: a 0-d int64, a 0-d float, an empty
// tensor, 1- to 5-d shapes, and a number that needs BININT2.
func edgeSD() *StateDict {
	sd := New()
	sd.Set("a.weight", tensor.FromF32(seq(2*3*3*3), 2, 3, 3, 3))
	sd.Set("a.num_batches_tracked", tensor.FromI64([]int64{-7}))
	sd.Set("scalar", tensor.FromF32([]float32{2.5}))
	sd.Set("empty", tensor.FromF32([]float32{}, 0, 3))
	sd.Set("ids", tensor.FromI64([]int64{1 << 40, -1, 0}, 3))
	sd.Set("wide", tensor.FromF32(seq(300), 300))
	sd.Set("five", tensor.FromF32(seq(32), 1, 2, 2, 4, 2))
	return sd
}

func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i)*0.37 - 5
	}
	return s
}

// manySD has n float tensors, enough to exercise LONG_BINPUT (memo ≥ 256) and SETITEMS
// batching (1000 items per batch).
func manySD(n int) *StateDict {
	sd := New()
	for i := range n {
		sd.Set(fmt.Sprintf("layer%d.weight", i), tensor.FromF32([]float32{float32(i)}, 1))
	}
	return sd
}

func TestRoundTrip(t *testing.T) {
	train, err := Load(golden(t, "tiny_repvgg_train.pth"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]*StateDict{
		"train": train, "edge": edgeSD(), "one": manySD(1), "many": manySD(1001), "none": New(),
	}
	dir := t.TempDir()
	for name, sd := range cases {
		for _, ext := range []string{".pth", ".pt", ".safetensors", ".npz"} {
			path := filepath.Join(dir, name+ext)
			if err := Save(path, sd); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			got, info, err := LoadWithInfo(path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if d := equalSD(sd, got); d != "" {
				t.Errorf("%s: %s", path, d)
			}
			if len(info.Converted) != 0 || info.Wrapper != "" || info.Prefix != "" {
				t.Errorf("%s: info %+v", path, info)
			}
			// The format is found from the content, whatever the name says.
			data, _ := os.ReadFile(path)
			got2, err := LoadBytes("weights.bin", data)
			if err != nil || equalSD(sd, got2) != "" {
				t.Errorf("%s renamed: %v", path, err)
			}
		}
	}
}

// TestPTHReadByGopickle reads files written by SavePTH with gopickle's own PyTorch loader,
// an implementation independent of ours.
func TestPTHReadByGopickle(t *testing.T) {
	sd := edgeSD()
	path := filepath.Join(t.TempDir(), "edge.pth")
	if err := SavePTH(path, sd); err != nil {
		t.Fatal(err)
	}
	obj, err := pytorch.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	od, ok := obj.(*types.OrderedDict)
	if !ok {
		t.Fatalf("gopickle read a %T", obj)
	}
	i := 0
	for e := od.List.Front(); e != nil; e = e.Next() {
		en := e.Value.(*types.OrderedDictEntry)
		key := en.Key.(string)
		if key != sd.Keys[i] {
			t.Errorf("key %d: %q, want %q", i, key, sd.Keys[i])
		}
		i++
		pt := en.Value.(*pytorch.Tensor)
		want := sd.Tensors[key]
		if !tensor.SameShape(pt.Size, want.Shape) || pt.StorageOffset != 0 {
			t.Errorf("%s: size %v offset %d, want %v", key, pt.Size, pt.StorageOffset, want.Shape)
		}
		switch s := pt.Source.(type) {
		case *pytorch.FloatStorage:
			if !sameBits(tensor.FromF32(s.Data, len(s.Data)), tensor.FromF32(want.F32, len(want.F32))) {
				t.Errorf("%s: data %v, want %v", key, s.Data, want.F32)
			}
		case *pytorch.LongStorage:
			if fmt.Sprint(s.Data) != fmt.Sprint(want.I64) {
				t.Errorf("%s: data %v, want %v", key, s.Data, want.I64)
			}
		default:
			t.Errorf("%s: storage %T", key, s)
		}
	}
	if i != sd.Len() {
		t.Errorf("gopickle read %d entries, want %d", i, sd.Len())
	}
}

// TestGoldenPTHByGopickle confirms that gopickle's pytorch.Load reads the golden files too
// (the claim), as a baseline for the test above.
func TestGoldenPTHByGopickle(t *testing.T) {
	obj, err := pytorch.Load(golden(t, "tiny_repvgg_train.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if od, ok := obj.(*types.OrderedDict); !ok || od.Len() != 96 {
		t.Fatalf("got %T", obj)
	}
}

// TestWrappersAndPrefix writes checkpoints the way training scripts save them and checks
// that Load finds the state dict.
func TestWrappersAndPrefix(t *testing.T) {
	plain := edgeSD()
	prefixed := New()
	for _, k := range plain.Keys {
		prefixed.Set("module."+k, plain.Tensors[k])
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		sd      *StateDict
		opt     pthOptions
		wrapper string
		prefix  string
	}{
		{"state_dict_module", prefixed, pthOptions{wrapper: "state_dict"}, "state_dict", "module."},
		{"model_plain_dict", plain, pthOptions{wrapper: "model", plainDict: true}, "model", ""},
		{"module_only", prefixed, pthOptions{}, "", "module."},
		{"other_wrapper", plain, pthOptions{wrapper: "weights"}, "", ""},
	} {
		path := filepath.Join(dir, tc.name+".pth")
		if err := savePTH(path, tc.sd, tc.opt); err != nil {
			t.Fatal(err)
		}
		got, info, err := LoadWithInfo(path)
		if tc.name == "other_wrapper" {
			// An unknown wrapper key is not guessed at.
			if err == nil || !strings.Contains(err.Error(), `pickle of the wrong kind: key "weights" holds a dict, not a tensor`) {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if d := equalSD(plain, got); d != "" {
			t.Errorf("%s: %s", tc.name, d)
		}
		if info.Wrapper != tc.wrapper || info.Prefix != tc.prefix {
			t.Errorf("%s: wrapper %q prefix %q, want %q %q", tc.name, info.Wrapper, info.Prefix, tc.wrapper, tc.prefix)
		}
	}
	// The prefix is stripped in the other formats too.
	path := filepath.Join(dir, "prefixed.safetensors")
	if err := Save(path, prefixed); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(path); err != nil || equalSD(plain, got) != "" {
		t.Errorf("safetensors with module. prefix: %v", err)
	}
}

// TestSavedPickleMatchesTorch checks the writer against torch.save itself: for both golden
// checkpoints, the data.pkl SavePTH writes is, byte for byte, what torch 1.13 wrote, up to
// where torch appends the state dict's _metadata attribute (EMPTY_DICT '_metadata' … BUILD).
// This pins opcodes, memo numbering (BINPUT → LONG_BINPUT past 255), storage keys and the
// SETITEMS batch. The zip layout is checked too: entry order, stored entries with flag
// 0x0808, "FB" padding putting every entry's data at a multiple of 64, and identical
// storage bytes.
func TestSavedPickleMatchesTorch(t *testing.T) {
	for _, stem := range []string{"tiny_repvgg_deploy", "tiny_repvgg_train"} {
		gpath := golden(t, stem+".pth")
		sd, err := Load(gpath)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := writePTH(&buf, stem, sd, pthOptions{}); err != nil {
			t.Fatal(err)
		}
		mine := readZip(t, buf.Bytes())
		gdata, _ := os.ReadFile(gpath)
		theirs := readZip(t, gdata)

		pm, pt := mine.records[stem+"/data.pkl"], theirs.records[stem+"/data.pkl"]
		if pm[len(pm)-1] != opStop || !bytes.HasPrefix(pt, pm[:len(pm)-1]) {
			t.Errorf("%s: data.pkl is not a prefix of torch's", stem)
		}
		if tail := pt[len(pm)-1:]; !bytes.HasPrefix(tail, []byte("}")) || !bytes.Contains(tail, []byte("_metadata")) ||
			!bytes.HasSuffix(tail, []byte{opSetitem, opBuild, opStop}) {
			t.Errorf("%s: torch's pickle continues with %q, want the _metadata BUILD", stem, tail[:min(len(tail), 20)])
		}
		var want []string
		for _, n := range theirs.names {
			want = append(want, n)
			if n == stem+"/data.pkl" {
				want = append(want, stem+"/byteorder")
			}
		}
		if strings.Join(mine.names, " ") != strings.Join(want, " ") {
			t.Errorf("%s: entries\n%v\nwant\n%v", stem, mine.names, want)
		}
		for _, n := range theirs.names {
			if strings.Contains(n, "/data/") && !bytes.Equal(mine.records[n], theirs.records[n]) {
				t.Errorf("%s: storage %s differs", stem, n)
			}
		}
		for _, z := range []*zipContents{mine, theirs} {
			for _, n := range z.names {
				h := z.headers[n]
				if h.method != 0 || h.flags != 0x0808 || h.dataOffset%64 != 0 || !h.fbPadding {
					t.Errorf("%s: entry %s: %+v", stem, n, h)
				}
			}
		}
		if string(mine.records[stem+"/version"]) != "3\n" || string(mine.records[stem+"/byteorder"]) != "little" {
			t.Errorf("%s: version/byteorder records wrong", stem)
		}
	}
}

// TestPickleOpcodes checks the opcode-level structure of a small written pickle against the
// torch.save pattern, with the golden file's first entry as the model.
func TestPickleOpcodes(t *testing.T) {
	sd := New()
	sd.Set("w", tensor.FromF32(seq(8*3*3*3), 8, 3, 3, 3))
	sd.Set("n", tensor.FromI64([]int64{0}))
	got := disasm(t, encodeStateDict(sd, pthOptions{}))
	want := strings.Join([]string{
		"PROTO 2", "GLOBAL collections OrderedDict", "BINPUT 0", "EMPTY_TUPLE", "REDUCE", "BINPUT 1",
		"MARK",
		"BINUNICODE w", "BINPUT 2", "GLOBAL torch._utils _rebuild_tensor_v2", "BINPUT 3",
		"MARK", "MARK", "BINUNICODE storage", "BINPUT 4", "GLOBAL torch FloatStorage", "BINPUT 5",
		"BINUNICODE 0", "BINPUT 6", "BINUNICODE cpu", "BINPUT 7", "BININT1 216", "TUPLE", "BINPUT 8",
		"BINPERSID", "BININT1 0",
		"MARK", "BININT1 8", "BININT1 3", "BININT1 3", "BININT1 3", "TUPLE", "BINPUT 9",
		"MARK", "BININT1 27", "BININT1 9", "BININT1 3", "BININT1 1", "TUPLE", "BINPUT 10",
		"NEWFALSE", "BINGET 0", "EMPTY_TUPLE", "REDUCE", "BINPUT 11", "TUPLE", "BINPUT 12",
		"REDUCE", "BINPUT 13",
		"BINUNICODE n", "BINPUT 14", "BINGET 3",
		"MARK", "MARK", "BINGET 4", "GLOBAL torch LongStorage", "BINPUT 15",
		"BINUNICODE 1", "BINPUT 16", "BINGET 7", "BININT1 1", "TUPLE", "BINPUT 17",
		"BINPERSID", "BININT1 0", "EMPTY_TUPLE", "EMPTY_TUPLE",
		"NEWFALSE", "BINGET 0", "EMPTY_TUPLE", "REDUCE", "BINPUT 18", "TUPLE", "BINPUT 19",
		"REDUCE", "BINPUT 20",
		"SETITEMS", "STOP",
	}, "\n")
	if got != want {
		t.Errorf("opcodes:\n%s\nwant:\n%s", got, want)
	}
}

func TestEncodeLongAndInts(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		want string
	}{
		{0, "K\x00"}, {255, "K\xff"}, {256, "M\x00\x01"}, {65535, "M\xff\xff"}, {65536, "J\x00\x00\x01\x00"},
		{-1, "J\xff\xff\xff\xff"}, {1 << 31, "\x8a\x05\x00\x00\x00\x80\x00"},
		{-1<<31 - 1, "\x8a\x05\xff\xff\xff\x7f\xff"}, {1 << 40, "\x8a\x06\x00\x00\x00\x00\x00\x01"},
		{-1 << 63, "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80"},
	} {
		p := &pickler{}
		p.int(tc.v)
		if got := p.buf.String(); got != tc.want {
			t.Errorf("int(%d) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
