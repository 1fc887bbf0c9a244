package models_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/golden"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// TestTinyGolden checks that testdata/tiny_repvgg.yaml is the golden tiny model: the
// state_dict keys in the reference order and every tensor shape as the .npy headers give
// them, for both forms; the golden tensors bind strictly.
func TestTinyGolden(t *testing.T) {
	c := tinygolden.Manifest(t)
	for _, form := range []struct {
		deploy bool
		prefix string
		keys   []string
	}{{false, "train_sd", c.TrainKeys}, {true, "deploy_sd", c.DeployKeys}} {
		g, err := models.Resolve("testdata/tiny_repvgg.yaml", models.Options{Deploy: form.deploy})
		if err != nil {
			t.Fatal(err)
		}
		if got := models.Keys(g); strings.Join(got, "\n") != strings.Join(form.keys, "\n") {
			t.Errorf("%s keys:\n%s\nwant\n%s", form.prefix, strings.Join(got, "\n"), strings.Join(form.keys, "\n"))
		}
		_, sd := tinygolden.StateDict(t, form.deploy)
		if err := models.Bind(g, form.keys, sd); err != nil {
			t.Fatal(err)
		}
		if err := ir.Verify(g); err != nil {
			t.Fatal(err)
		}
		keys, tensors := models.Unbind(g)
		if strings.Join(keys, ",") != strings.Join(form.keys, ",") {
			t.Errorf("Unbind keys differ")
		}
		for _, k := range keys {
			want := sd[k]
			got := tensors[k]
			if strings.HasSuffix(k, "num_batches_tracked") {
				// Golden files store the 0-d counter with shape [1]; the graph holds it 0-d.
				if len(got.Shape) != 0 || got.I64[0] != want.I64[0] {
					t.Errorf("%s: %v = %v, want 0-d %v", k, got, got.I64, want.I64)
				}
				continue
			}
			if got != want {
				t.Errorf("%s: Unbind returned another tensor", k)
			}
		}
		var buf bytes.Buffer
		if err := ir.Print(&buf, g); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, fmt.Sprintf("tiny_repvgg.%s.ir", map[bool]string{false: "train", true: "deploy"}[form.deploy]), buf.Bytes())
	}
}

// TestKeysGolden pins the state_dict keys of representative zoo models (reference order),
// refreshed with -update. Key counts match torchvision's (resnet18 122, resnet50 320,
// vgg16 32 keys).
func TestKeysGolden(t *testing.T) {
	for _, c := range []struct {
		name   string
		deploy bool
		nkeys  int
	}{
		{"RepVGG-A0", false, 0}, {"RepVGG-A0", true, 0}, {"RepVGG-B1g2", false, 0}, {"RepVGG-D2se", false, 0},
		{"RepVGG-D2se", true, 0}, {"ResNet-18", false, 122}, {"ResNet-50", false, 320}, {"ResNet-50", true, 108},
		{"VGG-16", false, 32},
	} {
		g, err := models.Build(c.name, models.Options{Deploy: c.deploy})
		if err != nil {
			t.Fatal(err)
		}
		keys := models.Keys(g)
		if c.nkeys != 0 && len(keys) != c.nkeys {
			t.Errorf("%s: %d keys, want %d", c.name, len(keys), c.nkeys)
		}
		form := "train"
		if c.deploy {
			form = "deploy"
		}
		golden.Check(t, filepath.Join("keys", c.name+"."+form+".txt"), []byte(strings.Join(keys, "\n")+"\n"))
	}
}
