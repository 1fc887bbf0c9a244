package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/models"
)

func TestModelsJSON(t *testing.T) {
	out, errs, code := runCmd(t, cmdModels, "--format", "json")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(models.Names()) {
		t.Fatalf("%d rows, want %d", len(rows), len(models.Names()))
	}
	for _, k := range []string{"name", "input", "params_train", "params_deploy", "macs_train", "macs_deploy", "conv_layers", "conv_layers_train", "activation_elems", "activation_elems_train"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	// Exact counts: the RepVGG paper's rows (deploy form) and torchvision's (train form).
	want := map[string][2]float64{ // params, MACs
		"RepVGG-A0": {8309384, 1361451008}, "RepVGG-B1g4": {36125416, 7306870784}, "RepVGG-B3": {110960872, 26208882688},
	}
	wantTrain := map[string][2]float64{
		"ResNet-18": {11689512, 1814073344}, "ResNet-50": {25557032, 4089184256}, "VGG-16": {138357544, 15470264320},
	}
	for _, r := range rows {
		name := r["name"].(string)
		if w, ok := want[name]; ok && (r["params_deploy"] != w[0] || r["macs_deploy"] != w[1]) {
			t.Errorf("%s deploy: %v %v, want %v", name, r["params_deploy"], r["macs_deploy"], w)
		}
		if w, ok := wantTrain[name]; ok && (r["params_train"] != w[0] || r["macs_train"] != w[1]) {
			t.Errorf("%s train: %v %v, want %v", name, r["params_train"], r["macs_train"], w)
		}
		if in := r["input"].([]any); in[0] != 224.0 || in[1] != 224.0 {
			t.Errorf("%s input %v", name, in)
		}
	}
	if rows[0]["conv_layers"] != 22.0 || rows[0]["conv_layers_train"] != 44.0 {
		t.Errorf("A0 conv layers %v/%v", rows[0]["conv_layers"], rows[0]["conv_layers_train"])
	}
}

func TestModelsTable(t *testing.T) {
	out, _, code := runCmd(t, cmdModels)
	if code != exitOK {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+len(models.Names()) {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "model ") || !strings.Contains(lines[0], "params(deploy)") {
		t.Errorf("header %q", lines[0])
	}
	// Aligned: every line has the same length; numbers truncated as the paper does.
	for _, l := range lines {
		if len(l) != len(lines[0]) {
			t.Errorf("ragged line %q", l)
		}
	}
	a0 := strings.Fields(lines[1])
	if want := []string{"RepVGG-A0", "224x224", "9.10M", "8.30M", "1.51G", "1.36G", "22", "11.63M", "3.58M"}; strings.Join(a0, " ") != strings.Join(want, " ") {
		t.Errorf("A0 row %v, want %v", a0, want)
	}
}

func TestModelsCSVAndArgs(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte("num_blocks: [1, 2, 2, 1]\nwidth_multiplier: [0.125, 0.125, 0.125, 0.0625]\noverride_groups_map: {2: 2, 3: 2}\nnum_classes: 10\ninput: [32, 32]\n"), 0o644)
	out, errs, code := runCmd(t, cmdModels, "a0", spec, "--format=csv", "--input-size", "64x96")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "name" || recs[1][0] != "RepVGG-A0" || recs[1][1] != "64x96" || recs[2][0] != "net" || recs[2][1] != "64x96" {
		t.Errorf("csv:\n%s", out)
	}
	// The file's own input applies without --input.
	out, _, _ = runCmd(t, cmdModels, spec, "--format", "csv")
	if !strings.Contains(out, "net,32x32,29402,26034,205120,184640,7,14,") {
		t.Errorf("tiny counts:\n%s", out)
	}
	// The zoo at 32x32 lists VGG-16 too, with torchvision's adaptive pool to 7x7: the same
	// parameters as at 224, and 313,196,544 conv + 123,633,664 classifier MACs (see
	// models.TestVGG16AnySize).
	out, errs, code = runCmd(t, cmdModels, "--input-size", "32", "--format", "csv")
	if code != exitOK || errs != "" || !strings.Contains(out, "\nVGG-16,32x32,138357544,138357544,436830208,436830208,13,13,") {
		t.Errorf("VGG at 32: exit %d, stderr %q\n%s", code, errs, out)
	}
	// Below 32 the zoo skips VGG-16 with a note; naming it explicitly is an input error.
	out, errs, code = runCmd(t, cmdModels, "--input-size", "16", "--format", "json")
	if code != exitOK || !strings.Contains(errs, "skipping VGG-16: ") || strings.Contains(out, "VGG-16") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, errs, code = runCmd(t, cmdModels, "vgg16", "--input-size", "31"); code != exitUsage || !strings.Contains(errs, "at least 32 pixels per side") {
		t.Errorf("explicit VGG at 31: exit %d, %q", code, errs)
	}
}

func TestModelsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--format", "xml"}, exitUsage, `--format "xml": want table, json or csv`},
		{[]string{"--input-size", "0x3"}, exitUsage, "bad input size"},
		{[]string{"--input", "32"}, exitUsage, "use --input-size 32 for the image size"},
		{[]string{"--input-size", "9000"}, exitUsage, "vggsim models: model RepVGG-A0: input 9000x9000 too large (at most 8192 pixels per side)\n"},
		{[]string{"--classes", "-1"}, exitUsage, "must be positive"},
		{[]string{"resnet19"}, exitUsage, `unknown model "resnet19" (did you mean ResNet-18?`},
		{[]string{"missing.yaml"}, exitUsage, "vggsim models: missing.yaml: no such file or directory"},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"-h"}, exitOK, "usage: vggsim models"},
	} {
		out, errs, code := runCmd(t, cmdModels, c.args...)
		if code == exitOK {
			errs = out // the usage
		}
		if code != c.code || !strings.Contains(errs, c.msg) || (code != exitOK && out != "") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, out, errs, c.code, c.msg)
		}
		if code == exitUsage && strings.Count(strings.TrimSpace(errs), "\n") > 0 && !strings.Contains(errs, "usage:") {
			t.Errorf("%v: error is not one line: %q", c.args, errs)
		}
	}
	// A bad model file reports file:line:col.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("num_blocks: [1, 2, 2, 1]\nwidth_multiplier: [1, 1, 1, 1]\noverride_groups_map: {9: 2}\n"), 0o644)
	if _, errs, code := runCmd(t, cmdModels, bad); code != exitUsage || !strings.Contains(errs, bad+":3:23: override_groups_map[9]: block 9 does not exist") {
		t.Errorf("bad yaml: exit %d, %q", code, errs)
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1.00K", 8309384: "8.30M", 1361451008: "1.36G", 15470264320: "15.47G", 1999999: "1.99M"} {
		if got := human(n); got != want {
			t.Errorf("human(%d) = %s, want %s", n, got, want)
		}
	}
}
