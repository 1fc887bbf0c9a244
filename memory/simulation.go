package memory

import (
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/sim"
)

// Simulation is a graph simulated on an accelerator with the activations the spill model
// keeps on chip: the document `vggsim simulate --format json` prints (field names stable).
type Simulation struct {
	Model               string      `json:"model"`
	Form                string      `json:"form"`
	Input               [2]int      `json:"input"` // H, W
	ActivationSRAMBytes int64       `json:"activation_sram_bytes"`
	DRAMBytesPerImage   float64     `json:"dram_bytes_per_image"`
	Result              *sim.Result `json:"result"`
}

// Simulation runs the report's graph on cfg with the hardware's activation SRAM
// (Simulate(cfg, -1)) and labels the result with form. The analysis is reused, so a sweep
// over hardware analyzes a graph once per data width and batch and calls this per point.
func (r *Report) Simulation(form string, cfg *hw.Config) (*Simulation, error) {
	h, err := r.Simulate(cfg, -1)
	if err != nil {
		return nil, err
	}
	in := r.lv.g.Input().Shape
	return &Simulation{Model: r.lv.g.Name, Form: form, Input: [2]int{in.H, in.W},
		ActivationSRAMBytes: h.ActivationSRAMBytes, DRAMBytesPerImage: h.DRAMBytesPerImage, Result: h.Sim}, nil
}

// SimulateGraph analyzes g at cfg's data width and the batch (Analyze) and simulates it
// on cfg (Report.Simulation), the mapper minimizing obj: what `vggsim simulate` runs. To
// simulate one graph on many configurations, Analyze once and call Report.Simulation.
func SimulateGraph(g *ir.Graph, form string, cfg *hw.Config, batch int, obj sim.Objective) (*Simulation, error) {
	r, err := Analyze(g, Options{Bits: cfg.DataBits, Batch: batch, Objective: obj})
	if err != nil {
		return nil, err
	}
	return r.Simulation(form, cfg)
}
