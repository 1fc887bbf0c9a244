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
// lowering depends on) into one sim.Network holding a variant per activation budget, whose
// distinct layers are found once across the variants; every point then costs one
// sim.Engine.Best: each distinct layer simulated at most once for all budgets.
type workloadSim struct {
	g     *ir.Graph
	batch int

	mu      sync.Mutex
	reports map[int]*memory.Report    // by data bits
	nets    map[[2]int64]*sim.Network // by data bits and activation SRAM: a variant per distinct residency
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
	return &workloadSim{g: g, batch: w.Batch, reports: map[int]*memory.Report{}, nets: map[[2]int64]*sim.Network{}}, nil
}

// prepared returns the lowered network for cfg's data width with a variant for every
// activation budget memory.Report.Simulate searches (memory.ActivationBudgets), one per
// distinct choice of resident activations, in budget order.
func (ws *workloadSim) prepared(cfg *hw.Config) (*sim.Network, error) {
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
	}
	n, err := sim.PrepareVariants(seen, sim.Options{Batch: ws.batch})
	if err != nil {
		return nil, err
	}
	ws.nets[key] = n
	return n, nil
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
// the number of layers of the network run (distinct layers are simulated once, but every
// layer counts). The activation budget is searched as memory.Report.Simulate searches it:
// the fewest cycles, then the least energy, then the fewest DRAM bytes; ties keep the
// smaller budget (sim.Engine.Best, which skips the budgets that cannot win).
func (ws *workloadSim) simulate(e *sim.Engine, cfg *hw.Config) (Metrics, int, error) {
	n, err := ws.prepared(cfg)
	if err != nil {
		return Metrics{}, 0, err
	}
	var r sim.Result
	best, err := e.Best(cfg, n, sim.ObjectiveLatency, &r)
	if err != nil {
		return Metrics{}, 0, err
	}
	t := &r.Total
	return Metrics{
		MACs: t.MACs, Cycles: t.Cycles, StallCycles: t.StallCycles,
		LatencyS: r.LatencyS, ThroughputIPS: r.ThroughputIPS, Utilization: r.Utilization,
		EnergyPerImageJ:   r.EnergyPerImageJ,
		DRAMBytesPerImage: float64(t.DRAMReadBytes+t.DRAMWriteBytes) / float64(r.Batch),
	}, n.VariantLen(best), nil
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
