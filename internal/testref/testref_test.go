package testref

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenManifest checks that every file the manifest of the official RepVGG outputs
// lists is present with its recorded sha256, so an accidental edit of the reference data
// fails here rather than as a puzzling numeric mismatch elsewhere.
func TestGoldenManifest(t *testing.T) {
	b, err := os.ReadFile(Golden("manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []struct {
			Name  string
			Files []struct{ File, Sha256 string }
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range m.Cases {
		for _, f := range c.Files {
			data, err := os.ReadFile(Golden(f.File))
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != f.Sha256 {
				t.Errorf("%s: sha256 %s, manifest says %s", f.File, got, f.Sha256)
			}
			n++
		}
	}
	if len(m.Cases) != 4 || n != 199 {
		t.Errorf("manifest lists %d cases and %d files; want 4 and 199 (update this test when adding a case)", len(m.Cases), n)
	}
}

// TestScaleSimRuns checks that every SCALE-Sim config has its run with the three reports.
func TestScaleSimRuns(t *testing.T) {
	cfgs, err := filepath.Glob(ScaleSim("configs", "*.cfg"))
	if err != nil || len(cfgs) != 10 {
		t.Fatalf("want 10 SCALE-Sim configs, got %d (%v)", len(cfgs), err)
	}
	for _, c := range cfgs {
		run := strings.TrimSuffix(filepath.Base(c), ".cfg")
		for _, f := range []string{"COMPUTE_REPORT.csv", "DETAILED_ACCESS_REPORT.csv", "BANDWIDTH_REPORT.csv"} {
			if st, err := os.Stat(ScaleSim("runs", run, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: missing or empty %s (%v)", run, f, err)
			}
		}
	}
}
