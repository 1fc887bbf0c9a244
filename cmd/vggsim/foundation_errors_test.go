package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// This file holds the bad-input checks of issue 2, run through run() as a user would:
// each case must exit with status 2, print nothing on stdout, print exactly one line on
// stderr, and that line must name the file and the problem.

// torchZip returns a torch.save-style zip archive whose data.pkl is pkl.
func torchZip(t *testing.T, pkl []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, rec := range []struct {
		name string
		body []byte
	}{{"archive/data.pkl", pkl}, {"archive/version", []byte("3\n")}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: rec.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(rec.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Hand-written protocol-2 pickles (checked with Python's pickletools).
var (
	// [1, 2]
	pickledList = []byte("\x80\x02]q\x00(K\x01K\x02e.")
	// torch.save(model): a repvgg.RepVGG instance built with NEWOBJ and BUILD.
	pickledModule = []byte("\x80\x02crepvgg\nRepVGG\nq\x00)\x81q\x01}q\x02(X\x08\x00\x00\x00trainingq\x03\x88" +
		"X\x0b\x00\x00\x00_parametersq\x04ccollections\nOrderedDict\nq\x05)Rq\x06ub.")
	// {"model": <repvgg.RepVGG>, "epoch": 3}: a training checkpoint holding the module.
	pickledWrappedModule = []byte("\x80\x02}q\x00(X\x05\x00\x00\x00modelq\x01crepvgg\nRepVGG\nq\x02)\x81q\x03}q\x04" +
		"X\x08\x00\x00\x00trainingq\x05\x88sbX\x05\x00\x00\x00epochq\x06K\x03u.")
)

// badFiles writes the bad inputs of the tests into a fresh directory.
type badFiles struct{ dir string }

func (b badFiles) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (b badFiles) npy(t *testing.T, name string, x *tensor.Tensor) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	if err := npy.WriteFile(p, x); err != nil {
		t.Fatal(err)
	}
	return p
}

const tinySpecText = `family: repvgg
num_blocks: [1, 2, 2, 1]
width_multiplier: [0.125, 0.125, 0.125, 0.0625]
override_groups_map: {2: 2, 3: 2}
num_classes: 10
`

func TestBadInputOneLine(t *testing.T) {
	b := badFiles{t.TempDir()}
	trainPTH := filepath.Join(tinyGolden, "tiny_repvgg_train.pth")
	input := filepath.Join(tinyGolden, "input.npy")
	y := filepath.Join(b.dir, "y.npy")
	pth, err := os.ReadFile(trainPTH)
	if err != nil {
		t.Fatalf("golden data (testdata/golden): %v", err)
	}

	notZip := b.write(t, "notzip.pth", []byte("this is a text file, not a checkpoint\n"))
	truncated := b.write(t, "truncated.pth", pth[:len(pth)/2])
	cutEnd := b.write(t, "cut.pth", pth[:len(pth)-100])
	list := b.write(t, "list.pth", torchZip(t, pickledList))
	module := b.write(t, "module.pth", torchZip(t, pickledModule))
	wrapped := b.write(t, "wrapped.pth", torchZip(t, pickledWrappedModule))
	ungrouped := b.write(t, "ungrouped.yaml", []byte(strings.Replace(tinySpecText, "override_groups_map: {2: 2, 3: 2}\n", "", 1)))
	unknownKey := b.write(t, "unknown_key.yaml", []byte(strings.Replace(tinySpecText, "num_classes: 10\n", "num_classes: 10\nwidth_multipler: [1, 1, 1, 1]\n", 1)))
	badIndex := b.write(t, "bad_index.yaml", []byte(strings.Replace(tinySpecText, "{2: 2, 3: 2}", "{2: 2, 9: 2}", 1)))
	badIndex0 := b.write(t, "bad_index0.yaml", []byte(strings.Replace(tinySpecText, "{2: 2, 3: 2}", "{0: 2}", 1)))
	badGroups := b.write(t, "bad_groups.yaml", []byte(strings.Replace(tinySpecText, "{2: 2, 3: 2}", "{2: 2, 3: 3}", 1)))
	wrongRank := b.npy(t, "matrix.npy", tensor.New(10, 32))
	wrongChannels := b.npy(t, "four_channels.npy", tensor.New(1, 4, 32, 32))
	intInput := b.npy(t, "ints.npy", tensor.FromI64(make([]int64, 3*8*8), 1, 3, 8, 8))
	npyAsWeights := input

	infer := func(model, weights, in string) []string {
		args := []string{"infer", model, "--input", in, "-o", y}
		if weights != "" {
			args = append(args, "--weights", weights)
		}
		return args
	}
	for _, c := range []struct {
		name string
		args []string
		want []string // fragments of the one stderr line, in order
	}{
		// Missing files: the checkpoint, the model file, the input.
		{"missing checkpoint", infer(tinyYAML, filepath.Join(b.dir, "nope.pth"), input),
			[]string{"vggsim infer: ", "nope.pth: no such file or directory"}},
		{"missing model file", infer(filepath.Join(b.dir, "nope.yaml"), trainPTH, input),
			[]string{"vggsim infer: ", "nope.yaml: no such file or directory"}},
		{"missing input", infer(tinyYAML, trainPTH, filepath.Join(b.dir, "nope.npy")),
			[]string{"vggsim infer: ", "nope.npy: no such file or directory"}},
		{"show missing model file", []string{"show", filepath.Join(b.dir, "nope.yml")},
			[]string{"vggsim show: ", "nope.yml: no such file or directory"}},

		// Not a zip, truncated zips.
		{"not a zip", infer(tinyYAML, notZip, input),
			[]string{notZip + ": ", "not a zip archive"}},
		{"truncated zip", infer(tinyYAML, truncated, input),
			[]string{truncated + ": ", "truncated or corrupt zip archive"}},
		{"zip cut at the end", infer(tinyYAML, cutEnd, input),
			[]string{cutEnd + ": ", "truncated or corrupt zip archive"}},
		{"npy given as checkpoint", infer(tinyYAML, npyAsWeights, input),
			[]string{npyAsWeights + ": ", "a single .npy array, not a checkpoint"}},

		// Pickles of the wrong kind.
		{"pickled list", infer(tinyYAML, list, input),
			[]string{list + ": ", "pickle of the wrong kind: a list, not a dict of tensors"}},
		{"pickled nn.Module", infer(tinyYAML, module, input),
			[]string{module + ": ", "pickle of the wrong kind: a pickled repvgg.RepVGG object", "save model.state_dict() instead"}},
		{"module under a wrapper key", infer(tinyYAML, wrapped, input),
			[]string{wrapped + ": ", `pickle of the wrong kind: key "model" holds a pickled repvgg.RepVGG object`, "save model.state_dict() instead"}},

		// Wrong tensor shapes: in the checkpoint, and in the input array.
		{"mis-shaped checkpoint tensor", infer(ungrouped, trainPTH, input),
			[]string{trainPTH + ": ", "does not match ungrouped", "mis-shaped",
				"stage2.0.rbr_dense.conv.weight: [16 4 3 3] in file, model wants [16 8 3 3]"}},
		{"classifier of another width", append(infer(tinyYAML, trainPTH, input), "--classes", "7"),
			[]string{trainPTH + ": ", "linear.weight: [10 32] in file, model wants [7 32]", "the checkpoint's classifier has 10 classes, the model 7"}},
		{"input of rank 2", infer(tinyYAML, trainPTH, wrongRank),
			[]string{wrongRank + ": ", "shape [10 32], want [N, C, H, W] or [C, H, W]"}},
		{"input with 4 channels", infer(tinyYAML, trainPTH, wrongChannels),
			[]string{wrongChannels + " has 4 channels, tiny_repvgg wants 3"}},
		{"integer input", infer(tinyYAML, trainPTH, intInput),
			[]string{intInput + ": ", "dtype int64, want float32"}},

		// Unknown model names suggest the nearest.
		{"unknown model (infer)", infer("RepVGG-A9", trainPTH, input),
			[]string{`unknown model "RepVGG-A9" (did you mean RepVGG-A0?`}},
		{"unknown model (show)", []string{"show", "RepVGG-B1g3"},
			[]string{"vggsim show: ", `unknown model "RepVGG-B1g3" (did you mean RepVGG-B1g2?`}},
		{"unknown model (models)", []string{"models", "resnet-51"},
			[]string{"vggsim models: ", `unknown model "resnet-51" (did you mean ResNet-50?`}},

		// Model YAML problems carry file:line:col.
		{"unknown YAML key", []string{"show", unknownKey},
			[]string{unknownKey + ":6:1: ", `unknown key "width_multipler" (did you mean width_multiplier? known keys: family,`}},
		{"unknown YAML key (infer)", infer(unknownKey, trainPTH, input),
			[]string{"vggsim infer: ", unknownKey + ":6:1: ", `unknown key "width_multipler" (did you mean width_multiplier? known keys: family,`}},
		{"groups index out of range", []string{"show", badIndex},
			[]string{badIndex + ":4:29: ", "override_groups_map[9]: block 9 does not exist; valid indices are 1..6"}},
		{"groups index 0 (stage0)", []string{"models", badIndex0},
			[]string{badIndex0 + ":4:23: ", "override_groups_map[0]: block 0 is stage0, which is never grouped"}},
		{"groups do not divide", infer(badGroups, trainPTH, input),
			[]string{badGroups + ":4:29: ", "override_groups_map[3]: groups 3 does not divide the channels of block 3 (stage2.1: 16 in, 16 out)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := vggsim(t, c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
			if !strings.HasPrefix(stderr, "vggsim "+c.args[0]+": ") {
				t.Errorf("stderr %q does not start with the command", stderr)
			}
			rest := stderr
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stderr %q lacks %q (in order)", stderr, w)
					break
				}
				rest = rest[i+len(w):]
			}
		})
	}
	if _, err := os.Stat(y); !os.IsNotExist(err) {
		t.Errorf("a failed infer left %s behind (%v)", y, err)
	}
}
