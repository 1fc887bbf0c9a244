package sweep

import "testing"

// BenchmarkSweepA0_10k runs the 10,000-point RepVGG-A0 study (testdata/a0-10k.yaml) in
// memory on all cores (-cpu sets how many) and reports two rates per second of wall time:
// layersims/s counts the network's layers per point (24 for A0, at the activation budget
// the search chose: points × model layers / wall time), enginesims/s the layer simulations
// the engine actually ran (the distinct layers of every activation budget it searched,
// less the budgets it skipped as unable to win). Both also per second of the process's CPU
// time, which on a shared machine does not count other processes' turns.
func BenchmarkSweepA0_10k(b *testing.B) {
	s, err := Load("testdata/a0-10k.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var layers, sims int64
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
		sims += sum.EngineLayerSims
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(layers)/sec, "layersims/s")
	b.ReportMetric(float64(sims)/sec, "enginesims/s")
	b.ReportMetric(sec/float64(b.N), "s/sweep")
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(layers)/cpu, "layersims/cpu-s")
		b.ReportMetric(float64(sims)/cpu, "enginesims/cpu-s")
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
	if sum.EngineLayerSims <= 0 {
		t.Errorf("%d layer simulations run by the engine", sum.EngineLayerSims)
	}
}
