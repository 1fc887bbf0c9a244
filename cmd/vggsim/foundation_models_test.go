package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// jsonRow is one object of `vggsim models --format json`, decoded with exact integers.
type jsonRow struct {
	Name                 string `json:"name"`
	Input                [2]int `json:"input"`
	ParamsTrain          int64  `json:"params_train"`
	ParamsDeploy         int64  `json:"params_deploy"`
	MACsTrain            int64  `json:"macs_train"`
	MACsDeploy           int64  `json:"macs_deploy"`
	ConvLayers           int    `json:"conv_layers"`
	ConvLayersTrain      int    `json:"conv_layers_train"`
	ActivationElems      int64  `json:"activation_elems"`
	ActivationElemsTrain int64  `json:"activation_elems_train"`
}

func modelsJSON(t *testing.T, args ...string) map[string]jsonRow {
	t.Helper()
	stdout, stderr, code := vggsim(t, append([]string{"models", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []jsonRow
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	m := map[string]jsonRow{}
	for _, r := range rows {
		if _, dup := m[r.Name]; dup {
			t.Errorf("duplicate row %s", r.Name)
		}
		m[r.Name] = r
	}
	return m
}

// TestModelsJSONPaperTable checks `vggsim models --format json` against the RepVGG paper
// for every RepVGG model of the zoo: the exact integer counts are pinned (derived from the
// reference constructor and cross-checked in package models), and the paper's columns
// follow from them under its rules — params truncated to two decimals of millions, FLOPs
// (multiply-accumulates) rounded to 0.1 G, deploy form at 224×224. The paper's table has no
// B2g2, B3g2 or D2se row; their counts are pinned all the same.
func TestModelsJSONPaperTable(t *testing.T) {
	rows := modelsJSON(t)
	for _, w := range []struct {
		name                      string
		paramsDeploy, macsDeploy  int64
		paramsTrain, macsTrain    int64
		convs, convsTrain         int
		paperParams, paperGFLOPs  string // "" where the paper has no row
		actsDeploy, actsTrainElem int64
	}{
		{"RepVGG-A0", 8309384, 1361451008, 9108968, 1512581120, 22, 44, "8.30", "1.4", 3589864, 11630568},
		{"RepVGG-A1", 12789864, 2363967488, 14092264, 2626488320, 22, 44, "12.78", "2.4", 4743912, 15381224},
		{"RepVGG-A2", 25499944, 5116951552, 28210600, 5685345280, 22, 44, "25.49", "5.1", 6261864, 20511848},
		{"RepVGG-B0", 14339048, 3057600512, 15817960, 3397191680, 28, 56, "14.33", "3.1", 6148840, 20298472},
		{"RepVGG-B1", 51829480, 11815485440, 57415016, 13128089600, 28, 56, "51.82", "11.8", 10640360, 35628008},
		{"RepVGG-B1g2", 41360104, 8809742336, 45782376, 9788375040, 28, 56, "41.36", "8.8", 10640360, 35628008},
		{"RepVGG-B1g4", 36125416, 7306870784, 39966056, 8118517760, 28, 56, "36.12", "7.3", 10640360, 35628008},
		{"RepVGG-B2", 80315112, 18376609792, 89022376, 20418170880, 28, 56, "80.31", "18.4", 12898792, 43330536},
		{"RepVGG-B2g2", 63956712, 13680136192, 70846376, 15199866880, 28, 56, "", "", 12898792, 43330536},
		{"RepVGG-B2g4", 55777512, 11331899392, 61758376, 12590714880, 28, 56, "55.77", "11.3", 12898792, 43330536},
		{"RepVGG-B3", 110960872, 26208882688, 123085288, 29120696320, 28, 56, "110.96", "26.2", 15106536, 50882024},
		{"RepVGG-B3g2", 87404776, 19445960704, 96911848, 21606338560, 28, 56, "", "", 15106536, 50882024},
		{"RepVGG-B3g4", 75626728, 16064499712, 83825128, 17849159680, 28, 56, "75.62", "16.1", 15106536, 50882024},
		{"RepVGG-D2se", 120387572, 32829551104, 133334836, 36476744192, 144, 192, "", "", 34473408, 89993152},
	} {
		r, ok := rows[w.name]
		if !ok {
			t.Errorf("%s: no JSON row", w.name)
			continue
		}
		want := jsonRow{w.name, [2]int{224, 224}, w.paramsTrain, w.paramsDeploy, w.macsTrain, w.macsDeploy,
			w.convs, w.convsTrain, w.actsDeploy, w.actsTrainElem}
		if r != want {
			t.Errorf("%s:\n got %+v\nwant %+v", w.name, r, want)
		}
		if w.paperParams == "" {
			continue
		}
		// The paper's presentation of the exact counts.
		params := fmt.Sprintf("%.2f", math.Floor(float64(r.ParamsDeploy)/1e4)/100)
		gflops := fmt.Sprintf("%.1f", float64(r.MACsDeploy)/1e9)
		if params != w.paperParams || gflops != w.paperGFLOPs {
			t.Errorf("%s: %s M params, %s G FLOPs; paper %s M, %s G", w.name, params, gflops, w.paperParams, w.paperGFLOPs)
		}
	}
	// The baselines: torchvision's published train-form (BatchNorm) numbers.
	for _, w := range []struct {
		name          string
		params, macs  int64
		publishedGMAC string
	}{
		{"ResNet-18", 11689512, 1814073344, "1.81"}, {"ResNet-50", 25557032, 4089184256, "4.09"},
		{"VGG-16", 138357544, 15470264320, "15.47"}, {"MobileNetV2", 3504872, 300774272, "0.30"},
	} {
		r := rows[w.name]
		if r.ParamsTrain != w.params || r.MACsTrain != w.macs || fmt.Sprintf("%.2f", float64(r.MACsTrain)/1e9) != w.publishedGMAC {
			t.Errorf("%s: params %d MACs %d; torchvision %d, %s G", w.name, r.ParamsTrain, r.MACsTrain, w.params, w.publishedGMAC)
		}
	}
	if len(rows) != 21 {
		t.Errorf("%d rows, want the 21 zoo models", len(rows))
	}
}

// TestModelsJSONInput checks that --input changes MACs but not params: from 224 to 320
// every feature map of a RepVGG grows from (224/2^k)² to (320/2^k)² pixels, so the conv
// MACs scale by exactly 100/49 and only the linear layer stays the same.
func TestModelsJSONInput(t *testing.T) {
	r224 := modelsJSON(t, "RepVGG-A0", "b1g4")
	r320 := modelsJSON(t, "a0", "RepVGG-B1g4", "--input-size", "320")
	for _, name := range []string{"RepVGG-A0", "RepVGG-B1g4"} {
		a, b := r224[name], r320[name]
		if b.Input != [2]int{320, 320} || a.ParamsDeploy != b.ParamsDeploy || a.ParamsTrain != b.ParamsTrain {
			t.Errorf("%s: %+v vs %+v", name, a, b)
		}
		// Every conv map is (input/2^k)²; only the linear layer does not scale.
		lin := int64(1000 * 1280)
		if name == "RepVGG-B1g4" {
			lin = 1000 * 2048
		}
		if (b.MACsDeploy-lin)*49 != (a.MACsDeploy-lin)*100 {
			t.Errorf("%s: deploy MACs %d at 224, %d at 320; conv part should scale by 100/49", name, a.MACsDeploy, b.MACsDeploy)
		}
	}
	if got := r320["RepVGG-A0"].MACsDeploy; got != 2777139200 {
		t.Errorf("A0 at 320: %d MACs", got)
	}
}
