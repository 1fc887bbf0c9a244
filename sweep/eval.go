package sweep

import (
	"fmt"
	"os"
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
// lowering depends on); every point then costs one sim.Simulate over prepared layers.
type workloadSim struct {
	g     *ir.Graph
	batch int

	mu      sync.Mutex
	reports map[int]*memory.Report // by data bits
	layers  map[[2]int64][]sim.Layer
}

// buildGraph builds a study model in a form at an input size.
func buildGraph(m ModelRef, form string, in [2]int) (*ir.Graph, error) {
	if isIRPath(m.Path) {
		f, err := os.Open(m.Path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return ir.Parse(m.Path, f)
	}
	return models.Resolve(m.Path, models.Options{InputH: in[0], InputW: in[1], Deploy: form == "deploy"})
}

func newWorkloadSim(w Workload) (*workloadSim, error) {
	g, err := buildGraph(w.Model, w.Form, w.Input)
	if err != nil {
		return nil, fmt.Errorf("%s (%s, %s): %w", w.Model.Arg, w.Form, w.inputText(), err)
	}
	return &workloadSim{g: g, batch: w.Batch, reports: map[int]*memory.Report{}, layers: map[[2]int64][]sim.Layer{}}, nil
}

// prepared returns the lowered layers for cfg's data width and activation SRAM.
func (ws *workloadSim) prepared(cfg *hw.Config) ([]sim.Layer, error) {
	act := memory.ActivationSRAM(cfg)
	key := [2]int64{int64(cfg.DataBits), act}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ls, ok := ws.layers[key]; ok {
		return ls, nil
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
	ws.layers[key] = ls
	return ls, nil
}

// simulate runs the workload on cfg.
func (ws *workloadSim) simulate(cfg *hw.Config) (Metrics, int, error) {
	ls, err := ws.prepared(cfg)
	if err != nil {
		return Metrics{}, 0, err
	}
	r, err := sim.Simulate(cfg, ls, sim.Options{Batch: ws.batch})
	if err != nil {
		return Metrics{}, 0, err
	}
	t := &r.Total
	return Metrics{
		MACs: t.MACs, Cycles: t.Cycles, StallCycles: t.StallCycles,
		LatencyS: r.LatencyS, ThroughputIPS: r.ThroughputIPS, Utilization: r.Utilization,
		EnergyPerImageJ:   r.EnergyPerImageJ,
		DRAMBytesPerImage: float64(t.DRAMReadBytes+t.DRAMWriteBytes) / float64(r.Batch),
	}, len(ls), nil
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
func inum(x int64) string   { return strconv.FormatInt(x, 10) }
