package sweep

import "testing"

// BenchmarkSweepA0_10k runs the 10,000-point RepVGG-A0 study (testdata/a0-10k.yaml) in
// memory on all cores and reports layer simulations per second of wall time and per second
// of CPU time.
func BenchmarkSweepA0_10k(b *testing.B) {
	s, err := Load("testdata/a0-10k.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var layers int64
	cpu0 := cpuTime()
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
	// On a shared machine the wall clock also counts other processes' turns; the CPU time
	// this process used does not (layer simulations per CPU-second; × cores for the rate on
	// an idle machine).
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(layers)/cpu.Seconds(), "layersims/cpu-s")
	}
}

// TestA0Study10k: the benchmark's study is 10,000 points of RepVGG-A0 (24 layers each); one
// shard of 100 runs cleanly and counts every layer.
func TestA0Study10k(t *testing.T) {
	s, err := Load("testdata/a0-10k.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pts, dropped := s.Points()
	if len(pts) != 10000 || dropped != 0 {
		t.Fatalf("%d points, %d dropped", len(pts), dropped)
	}
	_, sum, err := Run(s, Options{Shard: 7, Shards: 100})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 100 || sum.Failed != 0 || sum.LayerSims != 2400 {
		t.Errorf("ran %d, failed %d, %d layer simulations", sum.Ran, sum.Failed, sum.LayerSims)
	}
}
