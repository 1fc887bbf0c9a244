package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// FuzzParseSpec feeds arbitrary bytes to the model YAML loader, seeded with every file under
// testdata. It must never panic; every error must carry the file name; an accepted spec
// must build in both forms, with the deploy form plain (unless SE) and cheaper than the
// train form, and must survive a round trip through Spec.YAML.
func FuzzParseSpec(f *testing.F) {
	for _, pat := range []string{"testdata/*.yaml", "testdata/bad/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := models.ParseSpec("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		// Keep the graphs small: the fuzzer explores structure, not size.
		o := models.Options{InputH: 8, InputW: 8, NumClasses: 3}
		g, err := s.Build(o)
		if err != nil {
			t.Fatalf("accepted spec does not build: %v\n%s", err, data)
		}
		o.Deploy = true
		d, err := s.Build(o)
		if err != nil {
			t.Fatalf("deploy form does not build: %v", err)
		}
		if ok, why := ir.IsPlain(d); ok == s.UseSE {
			t.Fatalf("deploy IsPlain = %v (%s), use_se %v", ok, why, s.UseSE)
		}
		if ct, cd := models.Count(g), models.Count(d); cd.MACs >= ct.MACs || cd.Params >= ct.Params {
			t.Fatalf("deploy counts %+v not below train %+v", cd, ct)
		}
		s2, err := models.ParseSpec("fuzz.yaml", s.YAML())
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, s.YAML())
		}
		if string(s2.YAML()) != string(s.YAML()) {
			t.Fatalf("round trip changed the spec:\n%s\n%s", s.YAML(), s2.YAML())
		}
	})
}
