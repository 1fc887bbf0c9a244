package sweep

import (
	"os"
	"path/filepath"
	"testing"
)

// a0Study is a 10,000-point RepVGG-A0 sweep: 25 array heights × 25 widths × 4 DRAM
// bandwidths × 4 ifmap SRAM sizes.
const a0Study = `
name: a0-10k
models: [RepVGG-A0]
axes:
  array.rows: 8..200 +8
  array.cols: 8..200 +8
  dram.bandwidth: [4GB/s, 8GB/s, 16GB/s, 32GB/s]
  sram.ifmap: [64KiB, 128KiB, 256KiB, 512KiB]
`

// BenchmarkSweepA0_10k runs the 10,000-point RepVGG-A0 study in memory on all cores and
// reports layer simulations per second.
func BenchmarkSweepA0_10k(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "a0.yaml")
	if err := os.WriteFile(path, []byte(a0Study), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	var layers int64
	for b.Loop() {
		_, sum, err := Run(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if sum.Ran != 10000 || sum.Failed != 0 {
			b.Fatalf("ran %d, failed %d", sum.Ran, sum.Failed)
		}
		layers += sum.LayerSims
	}
	b.ReportMetric(float64(layers)/b.Elapsed().Seconds(), "layersims/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/sweep")
}
