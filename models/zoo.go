package models

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/internal/suggest"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/onnx"
)

// Options selects the input size, the classifier width and the form of a built model. Zero
// fields take defaults (negative ones are errors): InputH 224, InputW = InputH, NumClasses 1000, train form. For a model
// read from YAML, a non-zero field overrides the file, and the file overrides the defaults.
type Options struct {
	InputH, InputW int  // per-image input height and width in pixels
	NumClasses     int  // classifier outputs
	Deploy         bool // build the deploy (inference) form instead of the train form
}

// Default sizes used when Options leaves a field zero.
const (
	DefaultInput      = 224
	DefaultNumClasses = 1000
)

// check rejects negative fields, which are never a default.
func (o Options) check(name string) error {
	if o.InputH < 0 || o.InputW < 0 || o.NumClasses < 0 {
		return fmt.Errorf("model %s: negative input size %dx%d or class count %d", name, o.InputH, o.InputW, o.NumClasses)
	}
	return nil
}

// resolved returns o with the defaults applied; h, w, classes are fallbacks from a spec file
// (zero if none).
func (o Options) resolved(h, w, classes int) Options {
	switch {
	case o.InputH > 0 && o.InputW <= 0:
		o.InputW = o.InputH
	case o.InputH <= 0 && o.InputW > 0:
		o.InputH = o.InputW
	case o.InputH <= 0 && o.InputW <= 0:
		o.InputH, o.InputW = h, w
		if o.InputH <= 0 {
			o.InputH, o.InputW = DefaultInput, DefaultInput
		}
	}
	if o.NumClasses <= 0 {
		o.NumClasses = classes
		if o.NumClasses <= 0 {
			o.NumClasses = DefaultNumClasses
		}
	}
	return o
}

// zooEntry is one model of the zoo.
type zooEntry struct {
	name  string // canonical name, e.g. "RepVGG-A0"
	build func(o Options) (*ir.Graph, error)
}

// The grouped-layer maps of the reference: block indices 2, 4, …, 26 counted from 1 at the
// first block of stage 1 (optional_groupwise_layers in repvgg.py).
func groupMap(g int) map[int]int {
	m := make(map[int]int, 13)
	for l := 2; l <= 26; l += 2 {
		m[l] = g
	}
	return m
}

func repvggEntry(name string, blocks [4]int, a, b float64, groups int, se bool) zooEntry {
	s := &Spec{
		Name:            name,
		Family:          "repvgg",
		NumBlocks:       blocks,
		WidthMultiplier: [4]float64{a, a, a, b},
		NumClasses:      DefaultNumClasses,
		UseSE:           se,
	}
	if groups > 1 {
		s.OverrideGroupsMap = groupMap(groups)
	}
	zooSpecs[name] = s
	return zooEntry{name, s.Build}
}

// zooSpecs holds the Spec of every RepVGG model of the zoo by canonical name.
var zooSpecs = map[string]*Spec{}

var (
	blocksA = [4]int{2, 4, 14, 1}
	blocksB = [4]int{4, 6, 16, 1}
)

// zoo lists every built-in model in the order Names reports them.
var zoo = []zooEntry{
	repvggEntry("RepVGG-A0", blocksA, 0.75, 2.5, 1, false),
	repvggEntry("RepVGG-A1", blocksA, 1, 2.5, 1, false),
	repvggEntry("RepVGG-A2", blocksA, 1.5, 2.75, 1, false),
	repvggEntry("RepVGG-B0", blocksB, 1, 2.5, 1, false),
	repvggEntry("RepVGG-B1", blocksB, 2, 4, 1, false),
	repvggEntry("RepVGG-B1g2", blocksB, 2, 4, 2, false),
	repvggEntry("RepVGG-B1g4", blocksB, 2, 4, 4, false),
	repvggEntry("RepVGG-B2", blocksB, 2.5, 5, 1, false),
	repvggEntry("RepVGG-B2g2", blocksB, 2.5, 5, 2, false),
	repvggEntry("RepVGG-B2g4", blocksB, 2.5, 5, 4, false),
	repvggEntry("RepVGG-B3", blocksB, 3, 5, 1, false),
	repvggEntry("RepVGG-B3g2", blocksB, 3, 5, 2, false),
	repvggEntry("RepVGG-B3g4", blocksB, 3, 5, 4, false),
	repvggEntry("RepVGG-D2se", [4]int{8, 14, 24, 1}, 2.5, 5, 1, true),
	{"ResNet-18", resnetBuilder("ResNet-18", false, [4]int{2, 2, 2, 2})},
	{"ResNet-34", resnetBuilder("ResNet-34", false, [4]int{3, 4, 6, 3})},
	{"ResNet-50", resnetBuilder("ResNet-50", true, [4]int{3, 4, 6, 3})},
	{"ResNet-101", resnetBuilder("ResNet-101", true, [4]int{3, 4, 23, 3})},
	{"ResNet-152", resnetBuilder("ResNet-152", true, [4]int{3, 8, 36, 3})},
	{"VGG-16", buildVGG16},
	{"MobileNetV2", buildMobileNetV2},
}

// Names returns the canonical names of the built-in models: the RepVGG family (A0–A2,
// B0–B3 with their g2/g4 variants, D2se), ResNet-18/34/50/101/152, VGG-16 and MobileNetV2.
func Names() []string {
	names := make([]string, len(zoo))
	for i, e := range zoo {
		names[i] = e.name
	}
	return names
}

// normalize folds a model name to its lookup key: lower case, no "repvgg" prefix, no '-',
// '_' or spaces. "RepVGG-B1g4", "b1g4" and "repvgg_b1g4" all give "b1g4"; "ResNet-18" and
// "resnet18" give "resnet18".
func normalize(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	s = strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
	return strings.TrimPrefix(s, "repvgg")
}

func lookup(name string) (zooEntry, error) {
	key := normalize(name)
	best, bestDist := -1, 0
	for i, e := range zoo {
		k := normalize(e.name)
		if k == key && key != "" {
			return e, nil
		}
		d := suggest.Distance(key, k)
		if strings.HasPrefix(k, key) {
			d = 0 // a prefix ("d2", "resnet15") is the likeliest intent
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	if key == "" {
		return zooEntry{}, fmt.Errorf("empty model name; give a zoo name (e.g. RepVGG-A0) or a .yaml model file")
	}
	if bestDist <= max(2, len(key)/2) {
		return zooEntry{}, fmt.Errorf("unknown model %q (did you mean %s? run `vggsim models` for the list, or give a .yaml model file)", name, zoo[best].name)
	}
	return zooEntry{}, fmt.Errorf("unknown model %q; known models: %s; or give a .yaml model file", name, strings.Join(Names(), ", "))
}

// CanonicalName returns the canonical spelling of a zoo model name ("b1g4" → "RepVGG-B1g4"),
// or an error naming the nearest model when there is no such model.
func CanonicalName(name string) (string, error) {
	e, err := lookup(name)
	if err != nil {
		return "", err
	}
	return e.name, nil
}

// Build returns the graph of the zoo model name (see Names; matching ignores case, '-' and
// '_', and the "RepVGG-" prefix is optional) in the form and at the size opts selects. The
// graph carries no parameters; see InitWeights and Bind.
func Build(name string, opts Options) (*ir.Graph, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return e.build(opts)
}

// BuildDeploy is Build with opts.Deploy set: the inference form, where every RepVGG block is
// one conv3x3 with bias (named stageK.i.rbr_reparam) and every torchvision conv+BN pair is
// one conv with bias named after the conv.
func BuildDeploy(name string, opts Options) (*ir.Graph, error) {
	opts.Deploy = true
	return Build(name, opts)
}

// DeployCounts returns the counts of the deploy form of the zoo model name.
func DeployCounts(name string, opts Options) (Counts, error) {
	g, err := BuildDeploy(name, opts)
	if err != nil {
		return Counts{}, err
	}
	return Count(g), nil
}

// IsIRPath reports whether a MODEL argument names an IR text file (ir.Parse's form): it
// ends in .ir.
func IsIRPath(arg string) bool { return strings.HasSuffix(strings.ToLower(arg), ".ir") }

// LoadIR reads and verifies a graph in IR text form; errors are positioned
// ("file:line: message").
func LoadIR(path string) (*ir.Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ir.Parse(path, f)
}

// IsSpecPath reports whether a MODEL argument names a YAML model file rather than a zoo
// model: it ends in .yaml or .yml, or it is an existing regular file other than an IR text
// file (IsIRPath).
func IsSpecPath(arg string) bool {
	l := strings.ToLower(arg)
	if strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml") {
		return true
	}
	if IsIRPath(arg) {
		return false
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular()
}

// Resolve builds the model a MODEL argument names: an ONNX file (by its .onnx extension;
// see ResolveONNX), an IR text file (by its .ir extension, as written: opts do not apply;
// see LoadIR), a YAML model file (see IsSpecPath and LoadSpec) or a zoo name (see Build). A
// directory that is not also a zoo name is an error that says so.
func Resolve(arg string, opts Options) (*ir.Graph, error) {
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".pth", ".pt", ".bin", ".ckpt", ".safetensors", ".npz":
		return nil, fmt.Errorf("%s is a checkpoint, not a model: give MODEL as a zoo name (e.g. RepVGG-A0) or a .yaml model file, and the checkpoint with --weights %s", arg, arg)
	}
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		if _, err := lookup(arg); err != nil { // a zoo name wins over a directory "a0"
			return nil, fmt.Errorf("%s: is a directory, not a model name or a .yaml model file", arg)
		}
	}
	if onnx.IsPath(arg) {
		return ResolveONNX(arg, opts)
	}
	if IsIRPath(arg) {
		return LoadIR(arg)
	}
	if IsSpecPath(arg) {
		s, err := LoadSpec(arg)
		if err != nil {
			return nil, err
		}
		return s.Build(opts)
	}
	return Build(arg, opts)
}
