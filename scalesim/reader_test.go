package scalesim

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/sim"
)

func TestParseConfig(t *testing.T) {
	src := `# comment
; another
[general]
run_name = my run

[architecture_presets]
arrayheight: 16
ArrayWidth   =   8
IfmapSramSzkB = 1_024
FilterSramSzkB = 2
OfmapSramSzkB = +3
Dataflow = ws
Bandwidth = 10, 20
MemoryBanks = 2
FilterOffset = -5

[run_presets]
InterfaceBandwidth = CALC
`
	cfg, err := ParseConfig("x.cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := sim.ScaleSimConfig{RunName: "my run", ArrayHeight: 16, ArrayWidth: 8, IfmapSRAMkB: 1024,
		FilterSRAMkB: 2, OfmapSRAMkB: 3, FilterOffset: -5, OfmapOffset: 20000000,
		Dataflow: hw.WeightStationary, Bandwidth: []int{10, 20}, MemoryBanks: 2, InterfaceBandwidth: "CALC"}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("got  %+v\nwant %+v", *cfg, want)
	}
}

// TestParseConfigErrors checks that every problem is reported, each at its position.
func TestParseConfigErrors(t *testing.T) {
	src := `[architecture_presets]
ArrayHeight = 0
ArrayWidth = eight
IfmapSramSzkB = 64
IfmapSramSzkB = 64
Dataflow = rs
no delimiter here
[run_presets]
InterfaceBandwidth = FAST
`
	_, err := ParseConfig("bad.cfg", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"bad.cfg:2:15: ArrayHeight: must be between 1",
		`bad.cfg:3:14: ArrayWidth: not an integer: "eight"`,
		`bad.cfg:5:1: duplicate key "ifmapsramszkb"`,
		`bad.cfg:6:12: Dataflow: must be os, ws or is, got "rs"`,
		"bad.cfg:7:1: expected `key = value`",
		`bad.cfg:9:22: InterfaceBandwidth: must be CALC or USER, got "FAST"`,
		"bad.cfg: [architecture_presets] FilterSramSzkB: missing",
		"bad.cfg: [architecture_presets] OfmapSramSzkB: missing",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	user := "[architecture_presets]\nArrayHeight = 4\nArrayWidth = 4\nIfmapSramSzkB = 1\nFilterSramSzkB = 1\nOfmapSramSzkB = 1\nDataflow = os\n[run_presets]\nInterfaceBandwidth = USER\n"
	if _, err := ParseConfig("u.cfg", []byte(user)); err == nil || !strings.Contains(err.Error(), "u.cfg:9:22: InterfaceBandwidth: USER needs [architecture_presets] Bandwidth") {
		t.Errorf("USER without Bandwidth: %v", err)
	}
	if _, err := ParseConfig("e.cfg", []byte("key = 1\n")); err == nil || !strings.Contains(err.Error(), "e.cfg:1:1: key outside any [section]") {
		t.Errorf("key before section: %v", err)
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "missing.cfg")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestParseTopology(t *testing.T) {
	conv := "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" +
		"c1, 10, 12, 3, 3, 4, 8, 2,\n\n" +
		"c2, 10, 12, 3, 3, 4, 8, 2, 1,\n" +
		"c3, 5, 5, 1, 1, 2, 2, 1\n" + // no trailing comma
		"convDP, 6, 6, 3, 3, 3, 1, 1,\n"
	ls, err := ParseTopology("t.csv", []byte(conv), AutoFormat)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 6 {
		t.Fatalf("%d layers: %+v", len(ls), ls)
	}
	if ls[0] != (sim.ScaleSimLayer{Name: "c1", IfmapH: 10, IfmapW: 12, FilterH: 3, FilterW: 3, Channels: 4, NumFilters: 8, StrideH: 2, StrideW: 2}) {
		t.Errorf("c1: %+v", ls[0])
	}
	if ls[1].StrideH != 2 || ls[1].StrideW != 1 {
		t.Errorf("c2 strides: %+v", ls[1])
	}
	if ls[3].Name != "convDPChannel_0" || ls[5].Name != "convDPChannel_2" || ls[4].Channels != 1 {
		t.Errorf("depthwise expansion: %+v", ls[3:])
	}
	if eh, ew := ls[0].OfmapDims(); eh != 5 || ew != 6 { // ceil((10-3+2)/2), ceil((12-3+2)/2)
		t.Errorf("ofmap %dx%d", eh, ew)
	}

	gemm := "Layer, M, N, K,\nfc, 7, 5, 300,\n"
	ls, err = ParseTopology("g.csv", []byte(gemm), AutoFormat)
	if err != nil {
		t.Fatal(err)
	}
	if m, n, k := ls[0].GEMM(); m != 7 || n != 5 || k != 300 {
		t.Errorf("gemm %d %d %d", m, n, k)
	}
}

func TestParseTopologyErrors(t *testing.T) {
	src := "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" +
		"a, 10, x, 3, 3, 4, 8, 1,\n" +
		"b, 10, 10, 3,\n" +
		"c, 2, 2, 3, 3, 1, 1, 1,\n" +
		"d, 4, 4, 1, 1, 0, 1, 1,\n"
	_, err := ParseTopology("t.csv", []byte(src), AutoFormat)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`t.csv:2:8: want an integer`,
		"t.csv:3:1: want 8 or 9 fields",
		`t.csv:4:1: layer "c": filter height 3 is larger than the IFMAP height 2`,
		`t.csv:5:16: want an integer between 1`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseTopology("h.csv", []byte("header only\n"), AutoFormat); err == nil {
		t.Error("no layers: no error")
	}
}

func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-3275, "-3275.0"}, {22.75313507703332, "22.75313507703332"},
		{0.07097780779172391, "0.07097780779172391"}, {1e-4, "0.0001"}, {1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"}, {1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.25e22, "1.25e+22"},
		{math.Inf(1), "inf"}, {math.NaN(), "nan"}, {-0.5, "-0.5"}, {123456.789, "123456.789"},
	} {
		if got := FormatFloat(c.f); got != c.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func seedFiles(f *testing.F, dir, ext string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzReadConfig checks that the .cfg reader never panics, that what it accepts is valid,
// and that its errors name the file.
func FuzzReadConfig(f *testing.F) {
	seedFiles(f, filepath.Join(refDir, "configs"), ".cfg")
	f.Add([]byte("[architecture_presets]\nArrayHeight=1\nArrayWidth=1\nIfmapSramSzkB=1\nFilterSramSzkB=1\nOfmapSramSzkB=1\nDataflow=os\n"))
	f.Add([]byte("[a]\nk = v\n  cont\n[a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("f.cfg", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.cfg") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if cfg.ArrayHeight < 1 || cfg.ArrayWidth < 1 || cfg.IfmapSRAMkB < 1 || !cfg.Dataflow.Valid() {
			t.Fatalf("accepted an invalid config: %+v", *cfg)
		}
	})
}

// FuzzReadTopology checks that the topology reader never panics and that what it accepts
// validates; small accepted topologies are also run through the compatibility engine.
func FuzzReadTopology(f *testing.F) {
	seedFiles(f, filepath.Join(refDir, "topologies"), ".csv")
	f.Add([]byte("Layer, M, N, K,\ng, 3, 4, 5,\n"))
	f.Add([]byte("h\nx, 4, 4, 2, 2, 1, 1, 2,\nyDP, 3, 3, 1, 1, 2, 2, 1, 1,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ls, err := ParseTopology("f.csv", data, AutoFormat)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		cfg := sim.ScaleSimConfig{ArrayHeight: 4, ArrayWidth: 3, IfmapSRAMkB: 1, FilterSRAMkB: 1,
			OfmapSRAMkB: 1, Dataflow: hw.Dataflows()[len(data)%3]}
		for i, l := range ls {
			if err := l.Validate(); err != nil {
				t.Fatalf("accepted an invalid layer %d: %v", i, err)
			}
			m, n, k := l.GEMM()
			if i < 4 && int64(m)*int64(n)*int64(k) < 1<<14 && l.IfmapH*l.IfmapW*l.Channels < 1<<14 {
				r, err := sim.SimulateScaleSimLayer(cfg, i, l)
				if err != nil {
					t.Fatal(err)
				}
				if r.MACs != int64(m)*int64(n)*int64(k) || r.TotalCycles < r.MACs/12-1 {
					t.Fatalf("layer %d: %+v", i, r)
				}
			}
		}
	})
}
