package sweep

import (
	"fmt"
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
	reports map[int]*memory.Report // by data bits
	nets    map[[2]int64]*sim.Network
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

// prepared returns the lowered network for cfg's data width and activation SRAM.
func (ws *workloadSim) prepared(cfg *hw.Config) (*sim.Network, error) {
	act := memory.ActivationSRAM(cfg)
	key := [2]int64{int64(cfg.DataBits), act}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if n, ok := ws.nets[key]; ok {
		return n, nil
	}
	r := ws.reports[cfg.DataBits]
	if r == nil {
		var err error
		if r, err = memory.Analyze(ws.g, memory.Options{Bits: cfg.DataBits, Batch: ws.batch}); err != nil {
			return nil, err
		}
		ws.reports[cfg.DataBits] = r
	}
	ls, err := r.Layers(act)
	if err != nil {
		return nil, err
	}
	n, err := sim.Prepare(ls, sim.Options{Batch: ws.batch})
	if err != nil {
		return nil, err
	}
	ws.nets[key] = n
	return n, nil
}

// simulate runs the workload on cfg with the worker's engine and returns the metrics and
// the number of layers simulated (distinct layers are simulated once, but every layer
// counts).
func (ws *workloadSim) simulate(e *sim.Engine, cfg *hw.Config) (Metrics, int, error) {
	n, err := ws.prepared(cfg)
	if err != nil {
		return Metrics{}, 0, err
	}
	var r sim.Result
	if err := e.Total(cfg, n, &r); err != nil {
		return Metrics{}, 0, err
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
