package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

// Metrics is what one point's simulation gives, per run of Batch images unless named per
// image.
type Metrics struct {
	MACs              int64
	Cycles            int64
	StallCycles       int64
	LatencyS          float64
	ThroughputIPS     float64
	Utilization       float64
	EnergyPerImageJ   float64
	DRAMBytesPerImage float64
}

// workloadSim simulates one workload on many hardware points. It analyzes the graph once
// per data width and lowers it once per activation SRAM size (the only hardware the
// lowering depends on) into a sim.Network, whose distinct layers are found once; every point
// then costs one sim.Engine.Total: each distinct layer simulated once, no allocation.
type workloadSim struct {
	g     *ir.Graph
	batch int

	mu      sync.Mutex
	reports map[int]*memory.Report      // by data bits
	nets    map[[2]int64][]*sim.Network // by data bits and activation SRAM: one per distinct residency
}

// buildGraph builds a study model in a form at an input size.
func buildGraph(m ModelRef, form string, in [2]int) (*ir.Graph, error) {
	if isIRPath(m.Path) {
		return models.LoadIR(m.Path)
	}
	return models.Resolve(m.Path, models.Options{InputH: in[0], InputW: in[1], Deploy: form == "deploy"})
}

func newWorkloadSim(w Workload) (*workloadSim, error) {
	g, err := buildGraph(w.Model, w.Form, w.Input)
	if err != nil {
		return nil, fmt.Errorf("%s (%s, %s): %w", w.Model.Arg, w.Form, w.inputText(), err)
	}
	return &workloadSim{g: g, batch: w.Batch, reports: map[int]*memory.Report{}, nets: map[[2]int64][]*sim.Network{}}, nil
}

// prepared returns the lowered networks for cfg's data width at every activation budget
// memory.Report.Simulate searches (memory.ActivationBudgets), one per distinct choice of
// resident activations, in budget order.
func (ws *workloadSim) prepared(cfg *hw.Config) ([]*sim.Network, error) {
	act := memory.ActivationSRAM(cfg)
	key := [2]int64{int64(cfg.DataBits), act}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ns, ok := ws.nets[key]; ok {
		return ns, nil
	}
	r := ws.reports[cfg.DataBits]
	if r == nil {
		var err error
		if r, err = memory.Analyze(ws.g, memory.Options{Bits: cfg.DataBits, Batch: ws.batch}); err != nil {
			return nil, err
		}
		ws.reports[cfg.DataBits] = r
	}
	var ns []*sim.Network
	var seen [][]sim.Layer
	for _, b := range memory.ActivationBudgets(cfg) {
		ls, err := r.Layers(b)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(seen, func(x []sim.Layer) bool { return sameResidency(x, ls) }) {
			continue // the same activations on chip as a smaller budget: the same run
		}
		seen = append(seen, ls)
		n, err := sim.Prepare(ls, sim.Options{Batch: ws.batch})
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	ws.nets[key] = ns
	return ns, nil
}

// sameResidency reports whether two lowerings of one graph keep the same activations on
// chip (then they are the same layers).
func sameResidency(a, b []sim.Layer) bool {
	for i := range a {
		if a[i].OutputOnChip != b[i].OutputOnChip || a[i].ResidentBytes != b[i].ResidentBytes ||
			!slices.Equal(a[i].InputsOnChip, b[i].InputsOnChip) {
			return false
		}
	}
	return len(a) == len(b)
}

// simulate runs the workload on cfg with the worker's engine and returns the metrics and
// the number of layers simulated (distinct layers are simulated once, but every layer
// counts).
func (ws *workloadSim) simulate(e *sim.Engine, cfg *hw.Config) (Metrics, int, error) {
	ns, err := ws.prepared(cfg)
	if err != nil {
		return Metrics{}, 0, err
	}
	// The activation budget is searched as memory.Report.Simulate searches it: the fewest
	// cycles, then the least energy, then the fewest DRAM bytes; ties keep the smaller budget.
	var r, c sim.Result
	n := ns[0]
	for i, m := range ns {
		if err := e.Total(cfg, m, &c); err != nil {
			return Metrics{}, 0, err
		}
		if i == 0 || betterTotal(&c, &r) {
			r, n = c, m
		}
	}
	t := &r.Total
	return Metrics{
		MACs: t.MACs, Cycles: t.Cycles, StallCycles: t.StallCycles,
		LatencyS: r.LatencyS, ThroughputIPS: r.ThroughputIPS, Utilization: r.Utilization,
		EnergyPerImageJ:   r.EnergyPerImageJ,
		DRAMBytesPerImage: float64(t.DRAMReadBytes+t.DRAMWriteBytes) / float64(r.Batch),
	}, n.Len(), nil
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// betterTotal reports whether a beats b as memory's budget search ranks runs under the
// latency objective: cycles, then energy, then DRAM bytes.
func betterTotal(a, b *sim.Result) bool {
	switch {
	case a.Total.Cycles != b.Total.Cycles:
		return a.Total.Cycles < b.Total.Cycles
	case a.EnergyJ != b.EnergyJ:
		return a.EnergyJ < b.EnergyJ
	}
	return a.Total.DRAMReadBytes+a.Total.DRAMWriteBytes < b.Total.DRAMReadBytes+b.Total.DRAMWriteBytes
}
