package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// Tests of issue 3 at the CLI: fuse export and re-import in every format, the deploy form
// in infer and show, the int8-risk report, and bad checkpoints.

var tinyTrainPTH = filepath.Join(tinyGolden, "tiny_repvgg_train.pth")

// sameStateDicts fails t unless a and b have the same keys in the same order and
// bit-identical tensors of the same shapes and dtypes.
func sameStateDicts(t *testing.T, what string, a, b *checkpoint.StateDict) {
	t.Helper()
	if !slices.Equal(a.Keys, b.Keys) {
		t.Fatalf("%s: keys\n%v\nwant\n%v", what, a.Keys, b.Keys)
	}
	for _, k := range b.Keys {
		x, y := a.Tensors[k], b.Tensors[k]
		if x.DType != y.DType || !tensor.SameShape(x.Shape, y.Shape) || len(x.F32) != len(y.F32) || !slices.Equal(x.I64, y.I64) {
			t.Fatalf("%s: %s is %s %v, want %s %v", what, k, x.DType, x.Shape, y.DType, y.Shape)
		}
		for i := range y.F32 {
			if math.Float32bits(x.F32[i]) != math.Float32bits(y.F32[i]) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, k, i, x.F32[i], y.F32[i])
			}
		}
	}
}

// saveTrain writes g's parameters as a train checkpoint at path.
func saveTrain(t *testing.T, g *ir.Graph, path string) {
	t.Helper()
	keys, ts := models.Unbind(g)
	if err := checkpoint.Save(path, &checkpoint.StateDict{Keys: keys, Tensors: ts}); err != nil {
		t.Fatal(err)
	}
}

// TestFuseExportRoundTrip fuses a zoo model with random weights and the golden tiny model
// into .pth, .safetensors and .npz; each file read back holds exactly the in-memory deploy
// tensors (keys in reference order, bits), binds strictly to the deploy graph, and for
// tiny equals the reference's own tiny_repvgg_deploy.pth.
func TestFuseExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	g, err := models.Build("RepVGG-B1g4", models.Options{InputH: 32, InputW: 32, NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 9)
	train := filepath.Join(dir, "b1g4_train.safetensors")
	saveTrain(t, g, train)
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, tensors := models.Unbind(d)
	want := &checkpoint.StateDict{Keys: keys, Tensors: tensors}
	refTiny, err := checkpoint.Load(filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		model, weights string
		want           *checkpoint.StateDict
		n              int
	}{{"RepVGG-B1g4", train, want, 58}, {tinyYAML, tinyTrainPTH, refTiny, 16}} {
		for _, ext := range []string{".pth", ".safetensors", ".npz"} {
			out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(c.model), ".yaml")+ext)
			o, errs, code := vggsim(t, "fuse", c.model, "--weights", c.weights, "--classes", "10", "-o", out)
			if code != exitOK || !strings.Contains(o, fmt.Sprintf("wrote %d deploy tensors", c.n)) || !strings.Contains(o, "plain") {
				t.Fatalf("fuse %s %s: exit %d: %s%s", c.model, ext, code, o, errs)
			}
			got, info, err := checkpoint.LoadWithInfo(out)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]checkpoint.Format{".pth": checkpoint.PyTorch, ".safetensors": checkpoint.Safetensors, ".npz": checkpoint.NPZ}[ext]; info.Format != want {
				t.Errorf("%s: format %v, want %v", out, info.Format, want)
			}
			sameStateDicts(t, out, got, c.want)
			// Re-import: the file binds strictly to the deploy graph.
			dg, err := models.Resolve(c.model, models.Options{InputH: 32, InputW: 32, NumClasses: 10, Deploy: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := models.Bind(dg, got.Keys, got.Tensors); err != nil {
				t.Errorf("%s does not bind to the deploy graph: %v", out, err)
			}
		}
	}
}

// TestDeployForms: infer --form deploy gives the reference deploy logits from the train
// checkpoint (fused on the fly) and from the deploy checkpoint; show --form deploy prints
// the plain graph; --dump-after prints the graph after each pass.
func TestDeployForms(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(tinyGolden, "input.npy")
	y := filepath.Join(dir, "y.npy")
	want := readNPY(t, filepath.Join(tinyGolden, "deploy.logits.npy"))
	for _, w := range []string{tinyTrainPTH, filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth")} {
		o, errs, code := vggsim(t, "infer", tinyYAML, "--weights", w, "--form", "deploy", "--input", in, "-o", y)
		if code != exitOK || !strings.Contains(o, "(deploy form)") {
			t.Fatalf("infer %s: exit %d: %s%s", w, code, o, errs)
		}
		if d := maxDiff(readNPY(t, y), want); d > 1e-5 {
			t.Errorf("infer --form deploy --weights %s: logits differ from deploy.logits.npy by %g", filepath.Base(w), d)
		}
	}

	out, errs, code := vggsim(t, "show", tinyYAML, "--form", "deploy")
	if code != exitOK {
		t.Fatalf("show: exit %d: %s", code, errs)
	}
	g, err := ir.Parse("show", strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := ir.IsPlain(g); !ok || !strings.Contains(out, "@stage2.1.rbr_reparam") {
		t.Errorf("show --form deploy: not plain (%s):\n%s", why, out)
	}
	checks := map[string]func(s string) bool{
		"identity-to-conv": func(s string) bool {
			return strings.Contains(s, "conv[k=3x3 s=1 p=1 g=2] %") && strings.Contains(s, "@stage2.1.rbr_identity.id_conv") && strings.Contains(s, "batchnorm")
		},
		"fold-bn":        func(s string) bool { return !strings.Contains(s, "batchnorm") && strings.Contains(s, "k=1x1") },
		"pad-1x1":        func(s string) bool { return !strings.Contains(s, "k=1x1") && strings.Contains(s, "add") },
		"merge-branches": func(s string) bool { return !strings.Contains(s, "add") && strings.Contains(s, "rbr_reparam") },
		"dead-code":      func(s string) bool { return !strings.Contains(s, "rbr_dense") },
	}
	for _, p := range reparam.PassNames() {
		out, errs, code := vggsim(t, "show", tinyYAML, "--dump-after", p)
		if code != exitOK || !strings.HasPrefix(out, "# after "+p+"\n") || !checks[p](out) {
			t.Errorf("show --dump-after %s: exit %d %s\n%s", p, code, errs, out)
		}
		if _, err := ir.Parse(p, strings.NewReader(out)); err != nil {
			t.Errorf("--dump-after %s output does not parse: %v", p, err)
		}
	}
}

// TestQuantReport checks the int8-risk report on the golden tiny model, in JSON and as a
// table, at several widths, and on a deploy-form checkpoint.
func TestQuantReport(t *testing.T) {
	in := filepath.Join(tinyGolden, "input.npy")
	type stats struct {
		Min, Max, Std float64
		Tensor        float64 `json:"sqnr_per_tensor_db"`
		Channel       float64 `json:"sqnr_per_channel_db"`
	}
	type report struct {
		Bits      int     `json:"bits"`
		Threshold float64 `json:"threshold_db"`
		Flagged   int     `json:"flagged_layers"`
		Layers    []struct {
			Layer    string `json:"layer"`
			Weights  stats  `json:"weights"`
			Branches []struct {
				Name    string `json:"name"`
				Weights stats  `json:"weights"`
			} `json:"branches"`
			Widening   float64  `json:"range_widening"`
			Loss       float64  `json:"sqnr_loss_db"`
			Activation *stats   `json:"activation"`
			Flagged    bool     `json:"flagged"`
			FlaggedBy  []string `json:"flagged_by"`
		} `json:"layers"`
	}
	parse := func(args ...string) report {
		t.Helper()
		out, errs, code := vggsim(t, append([]string{"quant", tinyYAML, "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("quant %v: exit %d: %s", args, code, errs)
		}
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	prev, prevFlagged := math.Inf(-1), 8
	for _, bits := range []int{4, 6, 8, 12, 16} {
		r := parse("--weights", tinyTrainPTH, "--input", in, "--bits", fmt.Sprint(bits), "--threshold", "40")
		if r.Bits != bits || r.Threshold != 40 || len(r.Layers) != 8 {
			t.Fatalf("bits %d: %+v", bits, r)
		}
		l := r.Layers[3] // stage2.1: grouped, with an identity branch
		if l.Layer != "stage2.1.rbr_reparam" || len(l.Branches) != 3 || l.Branches[2].Name != "rbr_identity" {
			t.Fatalf("layer 3: %+v", l)
		}
		if l.Activation == nil || l.Widening <= 1 || !(l.Weights.Channel >= l.Weights.Tensor) {
			t.Errorf("bits %d, %s: %+v", bits, l.Layer, l)
		}
		if l.Weights.Tensor < prev+4*float64(bits-4)/float64(bits) { // about 6 dB a bit
			t.Errorf("bits %d: per-tensor SQNR %.1f dB, not above %.1f at fewer bits", bits, l.Weights.Tensor, prev)
		}
		prev = l.Weights.Tensor
		flagged := 0
		for _, l := range r.Layers {
			low := l.Weights.Tensor < 40 || (l.Activation != nil && l.Activation.Tensor < 40)
			if l.Flagged != low || low != (len(l.FlaggedBy) > 0) {
				t.Errorf("bits %d, %s: flagged %v by %v; SQNR %.1f dB, activation %.1f dB", bits, l.Layer, l.Flagged, l.FlaggedBy, l.Weights.Tensor, l.Activation.Tensor)
			}
			if low {
				flagged++
			}
		}
		if flagged != r.Flagged || flagged > prevFlagged || (bits == 4 && flagged != 8) || (bits == 16 && flagged != 0) {
			t.Errorf("bits %d: %d flagged (%d at fewer bits), report says %d", bits, flagged, prevFlagged, r.Flagged)
		}
		prevFlagged = flagged
	}
	// A deploy-form checkpoint: the same fused layers, no branches.
	dep := parse("--weights", filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth"))
	tr := parse("--weights", tinyTrainPTH)
	for i, l := range dep.Layers {
		if len(l.Branches) != 0 || l.Weights != tr.Layers[i].Weights {
			t.Errorf("deploy checkpoint, %s: %+v, want the train checkpoint's fused stats", l.Layer, l)
		}
	}
	out, errs, code := vggsim(t, "quant", tinyYAML, "--weights", tinyTrainPTH, "--input", in)
	lines := strings.Split(out, "\n")
	if code != exitOK || !strings.Contains(lines[0], "widen") || !strings.Contains(lines[0], "act SQNR/channel dB") ||
		!strings.Contains(out, "rbr_identity") || !strings.HasPrefix(lines[len(lines)-2], "tiny_repvgg: ") {
		t.Errorf("table: exit %d %s\n%s", code, errs, out)
	}
	for _, bad := range [][]string{{"--bits", "3"}, {"--bits", "17"}, {"--format", "xml"}, {"--threshold", "NaN"}} {
		if _, errs, code := vggsim(t, append([]string{"quant", tinyYAML}, bad...)...); code != exitUsage || !strings.Contains(errs, bad[0]) {
			t.Errorf("quant %v: exit %d %q", bad, code, errs)
		}
	}
}

// TestReparamBadCheckpoints: a train checkpoint where a deploy one is expected and vice
// versa, missing branch tensors, bad BatchNorm statistics. Each gets a clear one-line
// error and exit status 2 from every command that reads weights; none panics.
func TestReparamBadCheckpoints(t *testing.T) {
	dir := t.TempDir()
	train, err := checkpoint.Load(tinyTrainPTH)
	if err != nil {
		t.Fatal(err)
	}
	// write saves train with edit applied to a copy of its key list and tensor map.
	write := func(name string, edit func(keys []string, ts map[string]*tensor.Tensor) []string) string {
		keys := slices.Clone(train.Keys)
		ts := map[string]*tensor.Tensor{}
		for k, v := range train.Tensors {
			ts[k] = v
		}
		keys = edit(keys, ts)
		path := filepath.Join(dir, name)
		if err := checkpoint.Save(path, &checkpoint.StateDict{Keys: keys, Tensors: ts}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	drop := func(prefix string) func([]string, map[string]*tensor.Tensor) []string {
		return func(keys []string, ts map[string]*tensor.Tensor) []string {
			return slices.DeleteFunc(keys, func(k string) bool {
				if strings.HasPrefix(k, prefix) {
					delete(ts, k)
					return true
				}
				return false
			})
		}
	}
	setVar := func(key string, i int, v float32) func([]string, map[string]*tensor.Tensor) []string {
		return func(keys []string, ts map[string]*tensor.Tensor) []string {
			c := ts[key].Clone()
			c.F32[i] = v
			ts[key] = c
			return keys
		}
	}
	noIdentity := write("no_identity.pth", drop("stage2.1.rbr_identity."))
	no1x1 := write("no_1x1.safetensors", drop("stage1.0.rbr_1x1.conv.weight"))
	negVar := write("neg_var.npz", setVar("stage3.0.rbr_1x1.bn.running_var", 3, -0.5))
	nanVar := write("nan_var.pth", setVar("stage0.rbr_dense.bn.running_var", 0, float32(math.NaN())))
	infGamma := write("inf_gamma.pth", setVar("stage2.1.rbr_identity.weight", 1, float32(math.Inf(-1))))
	mixed := write("mixed.pth", func(keys []string, ts map[string]*tensor.Tensor) []string {
		ts["stage1.0.rbr_reparam.weight"] = tensor.New(8, 8, 3, 3)
		return append(keys, "stage1.0.rbr_reparam.weight")
	})
	deployPTH := filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth")
	a0 := filepath.Join(dir, "a0_train.pth")
	g, err := models.Build("RepVGG-A0", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	saveTrain(t, g, a0)

	in := filepath.Join(tinyGolden, "input.npy")
	y := filepath.Join(dir, "y.npy")
	fuse := func(w string) []string {
		return []string{"fuse", tinyYAML, "--weights", w, "-o", filepath.Join(dir, "out.pth")}
	}
	infer := func(w, form string) []string {
		return []string{"infer", tinyYAML, "--weights", w, "--form", form, "--input", in, "-o", y}
	}
	quantArgs := func(w string) []string { return []string{"quant", tinyYAML, "--weights", w} }
	cases := []struct {
		args []string
		want []string
	}{
		// A deploy checkpoint where a train one is expected.
		{fuse(deployPTH), []string{"tiny_repvgg_deploy.pth is already a deploy-form checkpoint", "nothing to fuse"}},
		{infer(deployPTH, "train"), []string{"tiny_repvgg_deploy.pth is a deploy-form checkpoint", "--form deploy"}},
		// Train keys with a stray deploy key: neither form.
		{fuse(mixed), []string{"mixed.pth mixes deploy-form keys (stage1.0.rbr_reparam.weight) with train-form ones (stage0.rbr_dense.bn.running_var)"}},
		{infer(mixed, "deploy"), []string{"mixed.pth", "unexpected", "stage0.rbr_dense.conv.weight"}},
		// A train checkpoint of another model given where tiny's is expected.
		{fuse(a0), []string{"a0_train.pth", "mis-shaped", "stage0.rbr_dense.conv.weight: [48 3 3 3] in file, model wants [8 3 3 3]"}},
		// Missing branch tensors.
		{fuse(noIdentity), []string{"no_identity.pth", "4 missing (stage2.1.rbr_identity.weight, stage2.1.rbr_identity.bias, stage2.1.rbr_identity.running_mean, stage2.1.rbr_identity.running_var)"}},
		{infer(noIdentity, "deploy"), []string{"4 missing"}},
		{quantArgs(noIdentity), []string{"4 missing"}},
		{fuse(no1x1), []string{"no_1x1.safetensors", "1 missing (stage1.0.rbr_1x1.conv.weight)"}},
		// BatchNorm statistics that cannot be folded.
		{fuse(negVar), []string{"neg_var.npz", "stage3.0.rbr_1x1.bn: running_var[3] = -0.5; a variance must be finite and non-negative"}},
		{infer(negVar, "deploy"), []string{"stage3.0.rbr_1x1.bn: running_var[3] = -0.5"}},
		{infer(negVar, "train"), []string{"stage3.0.rbr_1x1.bn: running_var[3] = -0.5"}},
		{quantArgs(negVar), []string{"stage3.0.rbr_1x1.bn: running_var[3] = -0.5"}},
		{fuse(nanVar), []string{"nan_var.pth: tensor \"stage0.rbr_dense.bn.running_var\" holds NaN at [0] (pass --allow-nonfinite to use it anyway)"}},
		{fuse(infGamma), []string{"inf_gamma.pth: tensor \"stage2.1.rbr_identity.weight\" holds -Inf at [1] (pass --allow-nonfinite to use it anyway)"}},
	}
	for _, c := range cases {
		_, errs, code := vggsim(t, c.args...)
		ok := code == exitUsage && strings.Count(strings.TrimSpace(errs), "\n") == 0 && strings.HasPrefix(errs, "vggsim "+c.args[0]+": ")
		for _, w := range c.want {
			ok = ok && strings.Contains(errs, w)
		}
		if !ok {
			t.Errorf("%s %s: exit %d, stderr %q; want 2 and one line with %q", c.args[0], filepath.Base(c.args[3]), code, errs, c.want)
		}
	}
	if _, errs, code := vggsim(t, "fuse", tinyYAML, "-o", filepath.Join(dir, "x.pth")); code != exitUsage || !strings.Contains(errs, "--weights and -o are required") {
		t.Errorf("fuse without --weights: exit %d %q", code, errs)
	}
	if _, errs, code := vggsim(t, "fuse", tinyYAML, "--weights", tinyTrainPTH, "-o", filepath.Join(dir, "x.h5")); code != exitUsage || !strings.Contains(errs, "x.h5: unknown extension") {
		t.Errorf("fuse to .h5: exit %d %q", code, errs)
	}
}

// TestResNetDeployRoundTrip: a ResNet's deploy checkpoint has no rbr_reparam keys (conv
// biases, no BatchNorm); fuse writes it, and infer --form deploy reads it back with the
// train form's logits; the other commands recognize it as the deploy form.
func TestResNetDeployRoundTrip(t *testing.T) {
	dir := t.TempDir()
	g, err := models.Build("ResNet-18", models.Options{NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 4)
	train, deploy := filepath.Join(dir, "r18.pth"), filepath.Join(dir, "r18_deploy.safetensors")
	saveTrain(t, g, train)
	if o, errs, code := vggsim(t, "fuse", "ResNet-18", "--classes", "10", "--weights", train, "-o", deploy); code != exitOK || !strings.Contains(o, "wrote 42 deploy tensors") {
		t.Fatalf("fuse: exit %d %s%s", code, o, errs)
	}
	sd, err := checkpoint.Load(deploy)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Keys[1] != "conv1.bias" || slices.ContainsFunc(sd.Keys, func(k string) bool { return strings.Contains(k, "bn") }) {
		t.Errorf("deploy keys %v", sd.Keys)
	}
	x := filepath.Join(dir, "x.npy")
	if err := npyWrite(x, 2, 3, 32, 32); err != nil {
		t.Fatal(err)
	}
	var logits [2][]float32
	for i, args := range [][]string{{"--weights", train}, {"--weights", deploy, "--form", "deploy"}} {
		y := filepath.Join(dir, fmt.Sprintf("y%d.npy", i))
		if o, errs, code := vggsim(t, append([]string{"infer", "ResNet-18", "--classes", "10", "--input", x, "-o", y}, args...)...); code != exitOK {
			t.Fatalf("infer %v: exit %d %s%s", args, code, o, errs)
		}
		logits[i] = readNPY(t, y)
	}
	if d := maxDiff(logits[1], logits[0]); d > 1e-4 {
		t.Errorf("deploy vs train logits differ by %g", d)
	}
	if _, errs, code := vggsim(t, "infer", "ResNet-18", "--classes", "10", "--weights", deploy, "--form", "train", "--input", x, "-o", filepath.Join(dir, "y.npy")); code != exitUsage ||
		!strings.Contains(errs, "r18_deploy.safetensors is a deploy-form checkpoint (no BatchNorm statistics); run it with --form deploy") {
		t.Errorf("deploy checkpoint as train: exit %d %q", code, errs)
	}
	if _, errs, code := vggsim(t, "fuse", "ResNet-18", "--classes", "10", "--weights", deploy, "-o", filepath.Join(dir, "again.pth")); code != exitUsage || !strings.Contains(errs, "already a deploy-form checkpoint (no BatchNorm statistics)") {
		t.Errorf("fuse of a deploy checkpoint: exit %d %q", code, errs)
	}
}

// npyWrite writes a deterministic float32 test array of the given shape.
func npyWrite(path string, shape ...int) error {
	x := tensor.New(shape...)
	for i := range x.F32 {
		x.F32[i] = float32(math.Sin(float64(i) * 0.37))
	}
	return npy.WriteFile(path, x)
}
