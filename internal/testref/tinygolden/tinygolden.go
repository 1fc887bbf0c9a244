// Package tinygolden is the one test fixture for the tiny RepVGG golden case: the official
// RepVGG code's small model (testdata/golden/tiny_repvgg, described by manifest.json) and
// its spec, models/testdata/tiny_repvgg.yaml. The tests of models, reparam, interp,
// checkpoint and the CLI load its state dicts, input, activations and logits from here
// instead of each keeping a loader.
//
// It is separate from package testref because it reads .npy files: internal/npy's own
// tests use testref, so testref cannot import npy.
//
// Every function takes a testing.TB and fails the test on missing or unreadable data; the
// data lives in the repository, so it is never skipped.
package tinygolden

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/tensor"
)

// Spec is the tiny model's spec file, models/testdata/tiny_repvgg.yaml, as an absolute
// path (a MODEL argument for models.Resolve and the CLI).
var Spec = testref.Repo("models", "testdata", "tiny_repvgg.yaml")

// Path returns a path in the golden case's directory, testdata/golden/tiny_repvgg, joined
// with elem: e.g. Path("tiny_repvgg_train.pth").
func Path(elem ...string) string { return testref.TinyRepVGG(elem...) }

// The .pth checkpoints the reference code wrote with torch.save.
const (
	TrainPTH  = "tiny_repvgg_train.pth"
	DeployPTH = "tiny_repvgg_deploy.pth"
)

// Block is one RepVGG block of the tiny model (manifest config.deploy_layers).
type Block struct {
	Name   string `json:"name"`
	In     int    `json:"in"`
	Out    int    `json:"out"`
	Stride int    `json:"stride"`
	Groups int    `json:"groups"`
}

// Case is the tiny_repvgg entry of testdata/golden/manifest.json.
type Case struct {
	Name string `json:"name"`
	// TrainKeys and DeployKeys are the reference state_dict keys in the reference order.
	TrainKeys  []string `json:"state_dict_keys_in_order"`
	DeployKeys []string `json:"deploy_state_dict_keys_in_order"`
	Config     struct {
		Blocks []Block `json:"deploy_layers"`
	} `json:"config"`
}

// Keys returns the state_dict keys of the train or the deploy form, in reference order.
func (c *Case) Keys(deploy bool) []string {
	if deploy {
		return c.DeployKeys
	}
	return c.TrainKeys
}

// Manifest reads the tiny case of the golden manifest.
func Manifest(tb testing.TB) *Case {
	tb.Helper()
	b, err := os.ReadFile(testref.Golden("manifest.json"))
	if err != nil {
		tb.Fatalf("golden data (testdata/golden): %v", err)
	}
	var m struct {
		Cases []Case `json:"cases"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("testdata/golden/manifest.json: %v", err)
	}
	for i := range m.Cases {
		if m.Cases[i].Name == "tiny_repvgg" {
			return &m.Cases[i]
		}
	}
	tb.Fatal("testdata/golden/manifest.json: no tiny_repvgg case")
	return nil
}

// StateDict returns the reference state dict of the train or deploy form: the keys in
// reference order (Manifest) and the tensors of the train_sd.<key>.npy or
// deploy_sd.<key>.npy files, num_batches_tracked included.
func StateDict(tb testing.TB, deploy bool) ([]string, map[string]*tensor.Tensor) {
	tb.Helper()
	keys := Manifest(tb).Keys(deploy)
	prefix := "train_sd."
	if deploy {
		prefix = "deploy_sd."
	}
	sd := make(map[string]*tensor.Tensor, len(keys))
	for _, k := range keys {
		sd[k] = Tensor(tb, prefix+k)
	}
	return keys, sd
}

// Tensor reads the golden tensor name (the file name without .npy): "input",
// "train.logits", "deploy.logits", "train_act.stage2.1", "train_sd.linear.bias", ….
func Tensor(tb testing.TB, name string) *tensor.Tensor {
	tb.Helper()
	x, err := npy.ReadFile(Path(name + ".npy"))
	if err != nil {
		tb.Fatalf("golden data (testdata/golden): %v", err)
	}
	return x
}

// Input returns the network input, [1, 3, 32, 32].
func Input(tb testing.TB) *tensor.Tensor { tb.Helper(); return Tensor(tb, "input") }

// Logits returns the reference logits of the train or deploy form, [1, 10].
func Logits(tb testing.TB, deploy bool) *tensor.Tensor {
	tb.Helper()
	if deploy {
		return Tensor(tb, "deploy.logits")
	}
	return Tensor(tb, "train.logits")
}

// Activation returns the train form's output of a block (after its ReLU), e.g. "stage2.1".
func Activation(tb testing.TB, block string) *tensor.Tensor {
	tb.Helper()
	return Tensor(tb, "train_act."+block)
}
