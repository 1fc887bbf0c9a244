package sim

import "github.com/vggsim/vggsim/hw"

// Roofline places a simulation's array layers on the roofline of its hardware (Williams,
// Waterman and Patterson, CACM 2009), in the accelerator's own units: operations are MACs,
// time is cycles, traffic is DRAM bytes.
//
//   - The compute roof is the array's peak, R·C MACs per cycle.
//   - The bandwidth roof at arithmetic intensity I (MACs per DRAM byte) is b·I MACs per
//     cycle, b = DRAM bandwidth / clock the DRAM bytes per cycle.
//   - A layer's attainable rate is min(R·C, b·I); its achieved rate is MACs/cycles (stalls
//     included), never above the attainable one (fill and drain, partial folds and the
//     exposed first load and last drain keep it below).
type Roofline struct {
	Hardware          string          `json:"hardware"`
	PeakMACsPerCycle  float64         `json:"peak_macs_per_cycle"`  // R·C
	DRAMBytesPerCycle float64         `json:"dram_bytes_per_cycle"` // bandwidth / clock; 0: unlimited
	Points            []RooflinePoint `json:"layers"`
}

// RooflinePoint is one Conv or GEMM layer on the roofline.
type RooflinePoint struct {
	Index        int     `json:"index"` // position in Result.Layers
	Name         string  `json:"name"`
	MACs         int64   `json:"macs"`
	DRAMBytes    int64   `json:"dram_bytes"` // read + written, partial-sum spills included
	Cycles       int64   `json:"cycles"`
	Intensity    float64 `json:"intensity"`      // MACs per DRAM byte; 0 without DRAM traffic
	MACsPerCycle float64 `json:"macs_per_cycle"` // achieved
	Attainable   float64 `json:"attainable"`     // the roof at Intensity
	Bound        string  `json:"bound"`          // "compute" or "memory": the roof at Intensity
}

// Ridge returns the arithmetic intensity where the two roofs meet, R·C / b (0 when the
// bandwidth is unlimited).
func (r *Roofline) Ridge() float64 {
	if r.DRAMBytesPerCycle <= 0 {
		return 0
	}
	return r.PeakMACsPerCycle / r.DRAMBytesPerCycle
}

// Attainable returns the roof at arithmetic intensity i: min(R·C, b·i), R·C when the
// bandwidth is unlimited or i is 0 (no DRAM traffic).
func (r *Roofline) Attainable(i float64) float64 {
	if i <= 0 || r.DRAMBytesPerCycle <= 0 {
		return r.PeakMACsPerCycle
	}
	return min(r.PeakMACsPerCycle, r.DRAMBytesPerCycle*i)
}

// NewRoofline returns res's Conv and GEMM layers on cfg's roofline (res simulated on cfg).
func NewRoofline(cfg *hw.Config, res *Result) *Roofline {
	rf := &Roofline{Hardware: cfg.Name, PeakMACsPerCycle: float64(cfg.Rows) * float64(cfg.Cols)}
	if cfg.DRAMBandwidth > 0 {
		rf.DRAMBytesPerCycle = cfg.DRAMBandwidth / cfg.ClockHz
	}
	for i := range res.Layers {
		l := &res.Layers[i]
		if l.MACs == 0 || l.Cycles == 0 {
			continue
		}
		p := RooflinePoint{Index: i, Name: l.Name, MACs: l.MACs, DRAMBytes: l.DRAMReadBytes + l.DRAMWriteBytes,
			Cycles: l.Cycles, MACsPerCycle: float64(l.MACs) / float64(l.Cycles)}
		if p.DRAMBytes > 0 {
			p.Intensity = float64(l.MACs) / float64(p.DRAMBytes)
		}
		p.Attainable = rf.Attainable(p.Intensity)
		p.Bound = "compute"
		if p.Attainable < rf.PeakMACsPerCycle {
			p.Bound = "memory"
		}
		rf.Points = append(rf.Points, p)
	}
	return rf
}
