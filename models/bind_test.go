package models_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// tiny returns the golden tiny model (train or deploy form) with seeded weights and its
// state dict.
func tiny(t *testing.T, deploy bool, seed uint64) (*ir.Graph, []string, map[string]*tensor.Tensor) {
	t.Helper()
	g := fresh(t, deploy)
	models.InitWeights(g, seed)
	keys, sd := models.Unbind(g)
	return g, keys, sd
}

// fresh returns the golden tiny model (train or deploy form) without parameters.
func fresh(t *testing.T, deploy bool) *ir.Graph {
	t.Helper()
	g, err := models.Resolve("testdata/tiny_repvgg.yaml", models.Options{Deploy: deploy})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// without returns keys without the ones in drop, in order.
func without(keys []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return slices.Contains(drop, k) })
}

func TestBindRoundTrip(t *testing.T) {
	_, keys, sd := tiny(t, false, 3)
	g := fresh(t, false)
	if err := models.Bind(g, keys, sd); err != nil {
		t.Fatal(err)
	}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	k2, sd2 := models.Unbind(g)
	if strings.Join(k2, ",") != strings.Join(keys, ",") {
		t.Fatal("keys differ after round trip")
	}
	for _, k := range keys {
		if sd2[k] != sd[k] {
			t.Errorf("%s: not the bound tensor", k)
		}
	}
	// The DataParallel prefix is accepted; a map without a key list works too.
	pre := map[string]*tensor.Tensor{}
	var pkeys []string
	for _, k := range keys {
		pre["module."+k] = sd[k]
		pkeys = append(pkeys, "module."+k)
	}
	if err := models.Bind(fresh(t, false), pkeys, pre); err != nil {
		t.Errorf("module. prefix: %v", err)
	}
	if err := models.Bind(fresh(t, false), nil, sd); err != nil {
		t.Errorf("nil keys: %v", err)
	}
}

func TestBindCounter(t *testing.T) {
	_, keys, sd := tiny(t, false, 3)
	const k = "stage0.rbr_dense.bn.num_batches_tracked"
	for _, c := range []struct {
		t  *tensor.Tensor
		ok bool
	}{
		{tensor.FromI64([]int64{7}), true},
		{tensor.FromI64([]int64{7}, 1), true},
		{tensor.FromF32([]float32{7}, 1), true},
		{tensor.FromI64([]int64{7, 8}, 2), false},
	} {
		sd[k] = c.t
		g := fresh(t, false)
		err := models.Bind(g, keys, sd)
		if (err == nil) != c.ok {
			t.Errorf("counter %v: %v", c.t, err)
			continue
		}
		if c.ok {
			got := g.Node("stage0.rbr_dense.bn").Params["num_batches_tracked"]
			if len(got.Shape) != 0 || got.DType != tensor.Int64 || got.I64[0] != 7 {
				t.Errorf("counter %v bound as %v %v", c.t, got, got.I64)
			}
		}
	}
	// num_batches_tracked is optional.
	if err := models.Bind(fresh(t, false), without(keys, k), sd); err != nil {
		t.Errorf("without counter: %v", err)
	}
}

func TestBindStrict(t *testing.T) {
	_, keys, sd := tiny(t, false, 3)
	g := fresh(t, false)
	bad := maps.Clone(sd)
	bk := without(keys, "stage2.1.rbr_identity.weight", "stage0.rbr_1x1.conv.weight", "linear.bias")
	bad["extra.weight"] = tensor.New(3)
	bad["stage9.rbr_dense.conv.weight"] = tensor.New(3)
	bk = append(bk, "extra.weight", "stage9.rbr_dense.conv.weight")
	bad["stage0.rbr_dense.conv.weight"] = tensor.New(6, 3, 3, 3)
	err := models.BindWith(g, bk, bad, models.BindOptions{Source: "ckpt.pth"})
	var me *models.MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not a MismatchError", err)
	}
	want := "checkpoint ckpt.pth does not match tiny_repvgg: 3 missing (stage0.rbr_1x1.conv.weight, stage2.1.rbr_identity.weight, linear.bias), " +
		"2 unexpected (extra.weight, stage9.rbr_dense.conv.weight), 1 mis-shaped (stage0.rbr_dense.conv.weight: [6 3 3 3] in file, model wants [8 3 3 3])"
	if err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
	for _, n := range g.Nodes {
		if n.Params != nil {
			t.Fatalf("failed Bind left parameters on %s", n.Name)
		}
	}
	// Non-strict: missing and unexpected keys are ignored, shapes still checked.
	bad["stage0.rbr_dense.conv.weight"] = sd["stage0.rbr_dense.conv.weight"]
	if err := models.BindWith(g, bk, bad, models.BindOptions{NonStrict: true}); err != nil {
		t.Fatal(err)
	}
	if g.Node("stage0.rbr_1x1.conv").Params != nil || g.Node("stage0.rbr_dense.conv").Params == nil {
		t.Error("non-strict: incomplete nodes must stay unbound, complete ones bound")
	}
	// Wrong dtype and inconsistent tensors are reported, never panic.
	bad2 := maps.Clone(sd)
	bad2["linear.bias"] = tensor.FromI64(make([]int64, 10), 10)
	bad2["linear.weight"] = &tensor.Tensor{Shape: []int{10, 32}, F32: make([]float32, 3)}
	bad2["stage0.rbr_dense.bn.weight"] = nil
	err = models.Bind(fresh(t, false), keys, bad2)
	for _, s := range []string{"linear.bias: int64 in file, model wants float32", "linear.weight: holds the wrong number of elements", "1 missing (stage0.rbr_dense.bn.weight)"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error %v lacks %q", err, s)
		}
	}
}

func TestBindCap(t *testing.T) {
	g, err := models.Build("a0", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = models.Bind(g, []string{"x"}, map[string]*tensor.Tensor{"x": tensor.New(1)})
	msg := err.Error()
	if !strings.Contains(msg, "does not match RepVGG-A0: 290 missing (stage0.rbr_dense.conv.weight, stage0.rbr_dense.bn.weight, stage0.rbr_dense.bn.bias, stage0.rbr_dense.bn.running_mean, stage0.rbr_dense.bn.running_var, … 285 more)") ||
		!strings.HasSuffix(msg, "1 unexpected (x); no key in common; is this a checkpoint of another model?") {
		t.Errorf("capped message: %s", msg)
	}
	if strings.Count(msg, "\n") != 0 {
		t.Error("message is not one line")
	}
}

func TestBindFormHints(t *testing.T) {
	_, dkeys, dsd := tiny(t, true, 1)
	_, tkeys, tsd := tiny(t, false, 1)
	err := models.Bind(fresh(t, false), dkeys, dsd)
	if err == nil || !strings.HasSuffix(err.Error(), "this looks like a deploy checkpoint (no BatchNorm statistics); use --form deploy") {
		t.Errorf("deploy into train: %v", err)
	}
	err = models.Bind(fresh(t, true), tkeys, tsd)
	if err == nil || !strings.HasSuffix(err.Error(), "this looks like a train-form checkpoint (it has BatchNorm statistics); use --form train") {
		t.Errorf("train into deploy: %v", err)
	}
	// The same for torchvision models.
	r, _ := models.Build("resnet18", models.Options{NumClasses: 10, InputH: 32})
	models.InitWeights(r, 1)
	rk, rsd := models.Unbind(r)
	rd, _ := models.BuildDeploy("resnet18", models.Options{NumClasses: 10, InputH: 32})
	if err := models.Bind(rd, rk, rsd); err == nil || !strings.Contains(err.Error(), "use --form train") {
		t.Errorf("resnet train into deploy: %v", err)
	}
	// A classifier of another width.
	g, _ := models.Resolve("testdata/tiny_repvgg.yaml", models.Options{NumClasses: 1000})
	err = models.Bind(g, tkeys, tsd)
	if err == nil || !strings.Contains(err.Error(), "linear.weight: [10 32] in file, model wants [1000 32]") ||
		!strings.HasSuffix(err.Error(), "the checkpoint's classifier has 10 classes, the model 1000; set the number of classes to match") {
		t.Errorf("classes: %v", err)
	}
}

func TestInitWeights(t *testing.T) {
	a, _, sa := tiny(t, false, 42)
	_, _, sb := tiny(t, false, 42)
	_, _, sc := tiny(t, false, 43)
	if err := ir.Verify(a); err != nil {
		t.Fatal(err)
	}
	same, diff := true, false
	for k, ta := range sa {
		tb, tc := sb[k], sc[k]
		for i := range ta.F32 {
			same = same && math.Float32bits(ta.F32[i]) == math.Float32bits(tb.F32[i])
			diff = diff || ta.F32[i] != tc.F32[i]
		}
	}
	if !same || !diff {
		t.Errorf("same seed same bits: %v; other seed differs: %v", same, diff)
	}
	for _, n := range a.Nodes {
		if n.Op.HasParams() != (n.Params != nil) {
			t.Errorf("%s: params %v", n.Name, n.Params != nil)
		}
		if n.Op != ir.BatchNorm {
			continue
		}
		p := n.Params
		// Every BN of the tiny train graph feeds a block's add: 2 operands, or 3 with the
		// identity branch; gamma is scaled by 1/√k.
		k := 2.0
		if strings.Contains(n.Name, "stage2.1.") || strings.Contains(n.Name, "stage3.1.") {
			k = 3
		}
		lo, hi := float32(0.5/math.Sqrt(k)), float32(1.5/math.Sqrt(k))
		for i := range p["weight"].F32 {
			if g, v := p["weight"].F32[i], p["running_var"].F32[i]; g < lo || g > hi || v < 0.5 || v > 1.5 {
				t.Errorf("%s: gamma %v not in [%v, %v] or var %v not in [0.5, 1.5]", n.Name, g, lo, hi, v)
			}
		}
		if c := p["num_batches_tracked"]; c.DType != tensor.Int64 || len(c.Shape) != 0 || c.I64[0] != 0 {
			t.Errorf("%s: counter %v", n.Name, c)
		}
		if m := p["running_mean"].F32; m[0] == 0 && m[1] == 0 {
			t.Errorf("%s: running_mean not random", n.Name)
		}
	}
	// Pinned values: the init must not drift between releases (golden checkpoints and
	// documentation examples depend on it).
	got := fmt.Sprintf("%.6f %.6f %.6f", sa["stage0.rbr_dense.conv.weight"].F32[0], sa["stage0.rbr_dense.bn.running_var"].F32[0], sa["linear.bias"].F32[9])
	if want := "-0.009461 1.104819 0.030929"; got != want {
		t.Errorf("seed 42 values %s, want %s", got, want)
	}
	// A node's values depend only on the seed, its name and its shape.
	_, _, sd := tiny(t, true, 42)
	if sd["linear.weight"].F32[5] != sa["linear.weight"].F32[5] {
		t.Error("linear differs between train and deploy graphs with the same seed")
	}
}
