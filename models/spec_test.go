package models_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

func TestParseSpecGood(t *testing.T) {
	s, err := models.LoadSpec("testdata/custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := models.Spec{
		Name: "my-net", Family: "repvgg", NumBlocks: [4]int{2, 1, 3, 1},
		WidthMultiplier:   [4]float64{0.25, 0.25, 0.25, 0.125},
		OverrideGroupsMap: map[int]int{2: 4, 5: 4}, NumClasses: 7, InputH: 32, InputW: 32,
	}
	if string(s.YAML()) != string(want.YAML()) {
		t.Errorf("parsed\n%s\nwant\n%s", s.YAML(), want.YAML())
	}
	g, err := s.Build(models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "my-net" || g.Input().Shape != (ir.Shape{C: 3, H: 32, W: 32}) || g.Output.Shape.C != 7 {
		t.Errorf("graph %s input %v classes %d", g.Name, g.Input().Shape, g.Output.Shape.C)
	}
	if a := g.Node("stage1.1.rbr_dense.conv").Attrs; a.Groups != 4 {
		t.Errorf("block 2 groups %d", a.Groups)
	}
	if a := g.Node("stage3.1.rbr_dense.conv").Attrs; a.Groups != 4 {
		t.Errorf("block 5 groups %d", a.Groups)
	}
	// Options override the file; the file overrides the defaults.
	g, err = models.Resolve("testdata/custom.yaml", models.Options{InputH: 64, InputW: 48, NumClasses: 3, Deploy: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.Input().Shape != (ir.Shape{C: 3, H: 64, W: 48}) || g.Output.Shape.C != 3 || g.Node("stage1.0.rbr_reparam") == nil {
		t.Errorf("Resolve with options: input %v classes %d", g.Input().Shape, g.Output.Shape.C)
	}

	// Round trip through YAML; the name defaults to the file stem.
	s2, err := models.ParseSpec("x/se_small.yml", mustRead(t, "testdata/se_small.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s2.Name != "se_small" || !s2.UseSE || s2.InputH != 24 || s2.InputW != 40 {
		t.Errorf("se_small: %+v", s2)
	}
	s3, err := models.ParseSpec("rt.yaml", s2.YAML())
	if err != nil || string(s3.YAML()) != string(s2.YAML()) {
		t.Errorf("round trip: %v\n%s\n%s", err, s2.YAML(), s3.YAML())
	}
	g, err = s2.Build(models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Node("stage0.se.down").Out.Shape.C != 1 || g.Node("stage4.0.se.down").Out.Shape.C != 2 {
		t.Error("SE internal widths")
	}

	// Accepted variants: scalar input, null groups map, aliases, flow and block style.
	for _, src := range []string{
		"num_blocks: [1,1,1,1]\nwidth_multiplier: [1,1,1,1]\ninput: 48\noverride_groups_map: null\n",
		"num_blocks: &n [1,1,1,1]\nwidth_multiplier: [1, 1.0, 1e0, 1]\n",
		"num_blocks:\n  - 1\n  - 1\n  - 1\n  - 1\nwidth_multiplier: [1,1,1,1]\ninput: [40]\nname: 7\n",
	} {
		if _, err := models.ParseSpec("v.yaml", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	wantRE  = regexp.MustCompile(`ERROR "((?:[^"\\]|\\.)*)"`)
	errPosR = regexp.MustCompile(`^([^:]+):(\d+)(?::(\d+))?: (.*)$`)
)

// TestParseSpecBad runs every file in testdata/bad: each line annotated `# ERROR "regexp"`
// must get an error at that line matching the regexp, and no other error may appear.
func TestParseSpecBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := mustRead(t, f)
			type want struct {
				line int
				re   *regexp.Regexp
				hit  bool
			}
			var wants []*want
			for i, line := range strings.Split(string(data), "\n") {
				for _, m := range wantRE.FindAllStringSubmatch(line, -1) {
					wants = append(wants, &want{line: i + 1, re: regexp.MustCompile(strings.ReplaceAll(m[1], `\"`, `"`))})
				}
			}
			_, err := models.ParseSpec(f, data)
			if err == nil {
				t.Fatal("no error")
			}
			for _, e := range strings.Split(err.Error(), "\n") {
				m := errPosR.FindStringSubmatch(e)
				if m == nil || m[1] != f {
					t.Errorf("error without file:line: %q", e)
					continue
				}
				line, _ := strconv.Atoi(m[2])
				matched := false
				for _, w := range wants {
					if w.line == line && w.re.MatchString(m[4]) {
						w.hit, matched = true, true
					}
				}
				if !matched {
					t.Errorf("unexpected error %q", e)
				}
			}
			for _, w := range wants {
				if !w.hit {
					t.Errorf("line %d: no error matching %q; got:\n%v", w.line, w.re, err)
				}
			}
		})
	}
}

// TestParseSpecPositions pins exact line:col positions of the key that is at fault.
func TestParseSpecPositions(t *testing.T) {
	for src, want := range map[string]string{
		"num_blocks: [1, 2, 2, 1]\nwidth_multiplier: [0.125, 0.125, 0.125, 0.0625]\noverride_groups_map: {2: 2, 9: 2}\n": "f.yaml:3:29: override_groups_map[9]: block 9 does not exist",
		"num_blocks: [1, 2, 2, 1]\nwidth_multiplier: [0.125, 0.125, 0.125, 0.0625]\noverride_groups_map:\n    3: 3\n":    "f.yaml:4:5: override_groups_map[3]: groups 3 does not divide the channels of block 3 (stage2.1: 16 in, 16 out)",
		"num_blocks: [1, 2, 2, 1]\nwidth_multiplier: [1, 1, 1, 1]\n  \nmodel: x\n":                                       "f.yaml:4:1: unknown key \"model\"",
		"num_blocks: [1, 2, 0, 1]\nwidth_multiplier: [1, 1, 1, 1]\n":                                                     "f.yaml:1:20: num_blocks[2]: stage 3 has 0 blocks",
	} {
		_, err := models.ParseSpec("f.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %s…", src, err, want)
		}
	}
	if _, err := models.LoadSpec("testdata/nope.yaml"); err == nil || err.Error() != "testdata/nope.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := models.Resolve("nope.yml", models.Options{}); err == nil || !strings.HasPrefix(err.Error(), "nope.yml: ") {
		t.Errorf("Resolve missing file: %v", err)
	}
	if _, err := models.Resolve("testdata", models.Options{}); err == nil || err.Error() != "testdata: is a directory, not a model name or a .yaml model file" {
		t.Errorf("Resolve directory: %v", err)
	}
	if _, err := models.ParseSpec("e.yaml", nil); err == nil || err.Error() != "e.yaml: empty model file" {
		t.Errorf("empty: %v", err)
	}
}

func TestSpecValidate(t *testing.T) {
	s, err := models.ZooSpec("b1g4")
	if err != nil {
		t.Fatal(err)
	}
	if s.OverrideGroupsMap[26] != 4 || len(s.OverrideGroupsMap) != 13 {
		t.Errorf("B1g4 groups map %v", s.OverrideGroupsMap)
	}
	s.OverrideGroupsMap[27] = 4 // B has 4+6+16+1 = 27 blocks; 27 is stage4.0 (2048 channels)
	s.OverrideGroupsMap[28] = 2
	err = s.Validate()
	if err == nil || !strings.Contains(err.Error(), "override_groups_map[28]: block 28 does not exist; valid indices are 1..27 (stage1 1..4, stage2 5..10, stage3 11..26, stage4 27)") {
		t.Errorf("Validate: %v", err)
	}
	if _, err := s.Build(models.Options{}); err == nil {
		t.Error("Build accepted an invalid spec")
	}
	// The zoo's own spec is untouched by changes to the copy.
	if _, err := models.Build("b1g4", models.Options{}); err != nil {
		t.Error(err)
	}
	if _, err := models.ZooSpec("resnet50"); err == nil {
		t.Error("ZooSpec(resnet50) succeeded")
	}
	// A zoo spec written as YAML builds the same graph as the zoo.
	d2, _ := models.ZooSpec("D2se")
	s2, err := models.ParseSpec("d2se.yaml", d2.YAML())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s2.Build(models.Options{})
	b, _ := models.Build("RepVGG-D2se", models.Options{})
	if a.String() != b.String() {
		t.Error("D2se from YAML differs from the zoo")
	}
}

func TestIsSpecPath(t *testing.T) {
	for arg, want := range map[string]bool{
		"a0": false, "x.yaml": true, "X.YML": true, "testdata/custom.yaml": true, "testdata": false,
		"doc.go": true, // an existing file
	} {
		if got := models.IsSpecPath(arg); got != want {
			t.Errorf("IsSpecPath(%q) = %v", arg, got)
		}
	}
}

// TestResolveIR: a .ir MODEL argument is read as IR text (as written), and its errors are
// positioned in the file; it is never taken for a YAML model file.
func TestResolveIR(t *testing.T) {
	g, err := models.Resolve("testdata/tiny_repvgg.train.ir", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "tiny_repvgg" {
		t.Errorf("name %q", g.Name)
	}
	if models.IsSpecPath("testdata/tiny_repvgg.train.ir") {
		t.Error("an .ir file taken for a model YAML file")
	}
	bad := filepath.Join(t.TempDir(), "bad.ir")
	if err := os.WriteFile(bad, []byte("graph \"b\"\n%0 = input : 3x8x8\n%1 = convolve %0 : 3x8x8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := models.Resolve(bad, models.Options{}); err == nil || !strings.HasPrefix(err.Error(), bad+":3:") {
		t.Errorf("got %v, want an error at %s:3", err, bad)
	}
}
