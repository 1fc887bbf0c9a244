package memory

import (
	"errors"
	"fmt"
	"math"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/sim"
)

// HWResult is a graph run on an accelerator by the sim package's native engine, with the
// activations kept on chip that the spill model keeps at ActivationSRAMBytes.
type HWResult struct {
	Hardware string `json:"hardware"`
	// ActivationSRAMBytes is the on-chip storage the spill model gives resident activations
	// (ActivationSRAM of the hardware unless overridden).
	ActivationSRAMBytes int64 `json:"activation_sram_bytes"`
	// Residency is the spill model's activation traffic at that size; the simulator's
	// activation traffic can be higher (it re-reads an input whose window band does not fit
	// the ifmap SRAM).
	Residency Traffic `json:"residency"`

	DRAMBytes           int64   `json:"dram_bytes"` // the whole run
	DRAMBytesPerImage   float64 `json:"dram_bytes_per_image"`
	ActivationDRAMBytes int64   `json:"activation_dram_bytes"` // ifmap reads + ofmap writes
	WeightDRAMBytes     int64   `json:"weight_dram_bytes"`     // filter reads
	PsumDRAMBytes       int64   `json:"psum_dram_bytes"`       // partial-sum spills
	Cycles              int64   `json:"cycles"`                // the whole run
	StallCycles         int64   `json:"stall_cycles"`
	LatencyS            float64 `json:"latency_s"`
	EnergyJ             float64 `json:"energy_j"` // the whole run
	EnergyPerImageJ     float64 `json:"energy_per_image_j"`

	Sim *sim.Result `json:"-"`
}

// ActivationSRAM returns the on-chip bytes the memory model lets resident activations use on
// cfg: the ifmap and ofmap SRAMs pooled (a layer's input lives in the first, its output in
// the second; a value kept for a later reader stays in either). Weights have the filter
// SRAM.
func ActivationSRAM(cfg *hw.Config) int64 { return cfg.IfmapSRAMBytes + cfg.OfmapSRAMBytes }

// withBits returns cfg with the report's data width, cloned only when it differs.
func withBits(cfg *hw.Config, bits int) *hw.Config {
	if cfg.DataBits == bits {
		return cfg
	}
	c := cfg.Clone()
	c.DataBits = bits
	return c
}

// Simulate runs the report's graph on cfg with the native engine of the sim package. The
// spill model decides which activations stay on chip with actSRAM bytes (negative:
// ActivationSRAM(cfg)); every layer's InputsOnChip and OutputOnChip follow that choice. The
// hardware runs at the report's data width and batch.
func (r *Report) Simulate(cfg *hw.Config, actSRAM int64) (*HWResult, error) {
	if cfg == nil {
		return nil, errors.New("memory: simulate: no hardware")
	}
	if actSRAM < 0 {
		actSRAM = ActivationSRAM(cfg)
	}
	cfg = withBits(cfg, r.Bits)
	t, res := r.lv.residency(r.costs, actSRAM)
	layers := r.lv.lower(res)
	sr, err := sim.Simulate(cfg, layers.layers, sim.Options{Batch: r.Batch})
	if err != nil {
		return nil, fmt.Errorf("memory: simulate %s: %w", r.Model, err)
	}
	tot := &sr.Total
	h := &HWResult{
		Hardware: cfg.Name, ActivationSRAMBytes: actSRAM, Residency: t,
		DRAMBytes:           tot.DRAMReadBytes + tot.DRAMWriteBytes,
		ActivationDRAMBytes: tot.DRAMIfmapReadBytes + tot.DRAMOfmapWriteBytes,
		WeightDRAMBytes:     tot.DRAMFilterReadBytes,
		PsumDRAMBytes:       tot.DRAMPsumReadBytes + tot.DRAMPsumWriteBytes,
		Cycles:              tot.Cycles, StallCycles: tot.StallCycles,
		LatencyS: sr.LatencyS, EnergyJ: sr.EnergyJ, EnergyPerImageJ: sr.EnergyPerImageJ,
		Sim: sr,
	}
	h.DRAMBytesPerImage = float64(h.DRAMBytes) / float64(r.Batch)
	return h, nil
}

// loweredGraph is a graph as sim layers: step[i] is the node of layers[i], and dram[i] the
// activation DRAM bytes the spill model charges that layer under the residency it was
// lowered with (the broadcast operand of Mul included, which the sim layer leaves out).
type loweredGraph struct {
	layers []sim.Layer
	step   []int
	dram   []int64
}

// lower turns the graph into sim layers in schedule order. A ReLU that is the only reader of
// a Conv or Linear result becomes that layer's FusedReLU; Input and Flatten produce no
// layer. An operand is on chip when the value is elided (see elided) or its buffer is
// resident — except the graph input, which its first reader loads from DRAM. A result is
// on chip when elided or resident, unless it is the graph output. A nil resident streams
// every buffer (layer by layer).
func (lv *liveness) lower(resident []bool) loweredGraph {
	g := lv.g
	firstRead := make([]int, len(lv.buffers))
	for i := range firstRead {
		firstRead[i] = math.MaxInt
	}
	for v, rs := range lv.readers {
		if len(rs) > 0 && lv.stepOf[v] >= 0 {
			b := lv.bufOf[v]
			firstRead[b] = min(firstRead[b], rs[0])
		}
	}
	inOn := func(v *ir.Value, step int) bool {
		if lv.elided(v.ID) {
			return true
		}
		b := lv.bufOf[v.ID]
		if resident == nil || !resident[b] {
			return false
		}
		return !(lv.buffers[b].Input && firstRead[b] == step)
	}
	outOn := func(v *ir.Value) bool {
		if lv.elided(v.ID) {
			return true
		}
		return v.ID != g.Output.ID && resident != nil && resident[lv.bufOf[v.ID]]
	}
	var lg loweredGraph
	skip := make([]bool, len(g.Nodes))
	for i, n := range g.Nodes {
		if skip[i] || n.Op == ir.Input || n.Op == ir.Flatten {
			continue
		}
		in := n.In[0].Shape
		l := sim.Layer{Name: n.Name, InH: in.H, InW: in.W, InC: in.C}
		out := n.Out
		switch n.Op {
		case ir.Conv, ir.Linear:
			if n.Op == ir.Conv {
				a := n.Attrs
				l.Kind, l.OutC, l.KH, l.KW = sim.Conv, n.Out.Shape.C, a.KH, a.KW
				l.StrideH, l.StrideW, l.PadH, l.PadW, l.Groups, l.Bias = a.Stride, a.Stride, a.Pad, a.Pad, a.Groups, a.Bias
			} else {
				l.Kind, l.InC, l.OutC, l.Bias = sim.GEMM, in.Elems(), n.Out.Shape.C, true
				l.InH, l.InW = 1, 1
			}
			if rs := lv.readers[out.ID]; len(rs) == 1 && g.Nodes[rs[0]].Op == ir.ReLU && out.ID != g.Output.ID {
				l.FusedReLU = true
				skip[rs[0]] = true
				out = g.Nodes[rs[0]].Out
			}
		case ir.MaxPool:
			a := n.Attrs
			l.Kind, l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW = sim.Pool, a.KH, a.KW, a.Stride, a.Stride, a.Pad, a.Pad
		case ir.GlobalAvgPool:
			l.Kind = sim.GlobalPool
		case ir.Add:
			l.Kind, l.NumInputs = sim.Add, len(n.In)
		case ir.Mul:
			l.Kind, l.NumInputs = sim.Mul, 2
		case ir.ReLU:
			l.Kind = sim.ReLU
		case ir.Sigmoid:
			l.Kind = sim.Sigmoid
		case ir.BatchNorm:
			l.Kind = sim.BatchNorm
		default:
			continue
		}
		var dram int64
		l.InputsOnChip = make([]bool, l.Inputs())
		seen := make(map[int]bool, len(n.In))
		for k, v := range n.In {
			on := inOn(v, i)
			l.InputsOnChip[k] = on
			if !on && !seen[v.ID] {
				dram += lv.readBytes(v.ID, i)
			}
			seen[v.ID] = true
		}
		if n.Op == ir.Mul {
			// The broadcast scale is C values; the engine would read a whole map for it.
			l.InputsOnChip[1] = true
		}
		l.OutputOnChip = outOn(out)
		if !l.OutputOnChip {
			dram += lv.valBytes[out.ID]
		}
		lg.layers = append(lg.layers, l)
		lg.step = append(lg.step, i)
		lg.dram = append(lg.dram, dram)
	}
	return lg
}

// SimCoster prices fusion segments with the sim package: compute cycles and on-chip energy
// from the native engine with every operand on chip, DRAM traffic from the fusion model,
// and the two overlapped (see doc.go, "Costs").
type SimCoster struct {
	cfg   *hw.Config
	batch int
	cache map[layerKey]onChip
	err   error
}

// layerKey is a sim.Layer without its name and on-chip flags.
type layerKey struct {
	kind                                sim.LayerKind
	inH, inW, inC, outC, kh, kw, sh, sw int
	ph, pw, groups, rows, inputs        int
	bias, relu                          bool
}

// onChip is a layer's cost with no activation or weight DRAM traffic.
type onChip struct {
	cycles    int64
	energyJ   float64 // MACs, vector ops and SRAM accesses
	psumBytes int64   // partial sums spilled to DRAM (the accumulator is too small)
}

// NewSimCoster returns a coster for cfg at the given data width and batch.
func NewSimCoster(cfg *hw.Config, bits, batch int) *SimCoster {
	if bits == 0 {
		bits = DefaultBits
	}
	return &SimCoster{cfg: withBits(cfg, bits), batch: max(batch, 1), cache: make(map[layerKey]onChip)}
}

// Err returns the first simulation error met, if any.
func (c *SimCoster) Err() error { return c.err }

func (c *SimCoster) compute(l sim.Layer) onChip {
	key := layerKey{l.Kind, l.InH, l.InW, l.InC, l.OutC, l.KH, l.KW, l.StrideH, l.StrideW,
		l.PadH, l.PadW, l.Groups, l.Rows, l.NumInputs, l.Bias, l.FusedReLU}
	if v, ok := c.cache[key]; ok {
		return v
	}
	l.InputsOnChip = make([]bool, l.Inputs())
	for i := range l.InputsOnChip {
		l.InputsOnChip[i] = true
	}
	l.OutputOnChip = true
	res, err := sim.Simulate(c.cfg, []sim.Layer{l}, sim.Options{Batch: c.batch})
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return onChip{}
	}
	lr := &res.Layers[0]
	e := c.cfg.Energy
	// SRAM energy without the filter words the engine brought from DRAM into the SRAM:
	// the fusion model prices weight traffic (and its SRAM write) itself.
	sram := float64(lr.SRAMReadBytes+lr.SRAMWriteBytes+lr.AccReadBytes+lr.AccWriteBytes-lr.DRAMFilterReadBytes) * e.SRAMpJPerByte * 1e-12
	v := onChip{cycles: lr.ComputeCycles, energyJ: lr.EnergyMACJ + sram, psumBytes: lr.DRAMPsumReadBytes + lr.DRAMPsumWriteBytes}
	c.cache[key] = v
	return v
}

// price combines on-chip work and DRAM traffic: the transfers overlap the computation
// (double buffering), so the time is the larger of the two; every DRAM byte also passes
// through an SRAM once.
func (c *SimCoster) price(w onChip, dramBytes int64) Cost {
	e := c.cfg.Energy
	d := dramBytes + w.psumBytes
	cycles := w.cycles
	if c.cfg.DRAMBandwidth > 0 {
		cycles = max(cycles, int64(math.Ceil(float64(d)*c.cfg.ClockHz/c.cfg.DRAMBandwidth)))
	}
	energy := w.energyJ + float64(d)*(e.DRAMpJPerByte+e.SRAMpJPerByte)*1e-12 + e.LeakageW*float64(cycles)/c.cfg.ClockHz
	return Cost{Cycles: cycles, EnergyJ: energy}
}

// chainLayer returns the sim layer of chain layer l computing rows output rows per band
// (rows = the whole map: the layer itself).
func chainLayer(l *FusionLayer, rows int) sim.Layer {
	n := l.node
	a := n.Attrs
	s := sim.Layer{Name: n.Name, InH: l.In.H, InW: l.In.W, InC: l.In.C, KH: a.KH, KW: a.KW,
		StrideH: a.Stride, StrideW: a.Stride, PadH: a.Pad, PadW: a.Pad}
	if n.Op == ir.Conv {
		s.Kind, s.OutC, s.Groups, s.Bias, s.FusedReLU = sim.Conv, l.OutShape.C, a.Groups, a.Bias, true
	} else {
		s.Kind = sim.Pool
	}
	if rows < l.OutShape.H {
		// A band: exactly the input rows that give rows output rows, padding rows included
		// as data (they are generated on chip).
		s.InH, s.PadH = (rows-1)*max(a.Stride, 1)+a.KH, 0
	}
	return s
}

// SegmentCost prices a segment: every layer computes its rows band by band (a depth-1
// segment computes its whole map at once), and the segment's DRAM traffic overlaps the
// computation.
func (c *SimCoster) SegmentCost(ch *FusionChain, s *Segment) Cost {
	var w onChip
	_, per := lineRows(ch, s.First, s.Depth, s.BandRows)
	for j := range s.Depth {
		l := &ch.Layers[s.First+j]
		h := l.OutShape.H
		rows := per[j]
		if s.Depth == 1 {
			rows = h
		}
		full, rem := h/rows, h%rows
		add := func(n int, r int) {
			v := c.compute(chainLayer(l, r))
			w.cycles += int64(n) * v.cycles
			w.energyJ += float64(n) * v.energyJ
			w.psumBytes += int64(n) * v.psumBytes
		}
		add(full, rows)
		if rem > 0 {
			add(1, rem)
		}
	}
	return c.price(w, s.DRAMBytes())
}

// RestCost prices every node outside the chains layer by layer: its operands read from DRAM
// and its result written (the spill model with no SRAM), its weights read once.
func (c *SimCoster) RestCost(g *ir.Graph, r *Report, chains []FusionChain) Cost {
	lv := r.lv
	// A chain layer's elementwise followers (up to FusionLayer.Out) are part of it.
	covered := make([]bool, len(g.Nodes))
	for _, ch := range chains {
		for _, l := range ch.Layers {
			v := l.node.Out
			covered[lv.stepOf[v.ID]] = true
			for g.Nodes[lv.stepOf[v.ID]].Name != l.Out {
				v = g.Nodes[lv.readers[v.ID][0]].Out
				covered[lv.stepOf[v.ID]] = true
			}
		}
	}
	return c.layersCost(r, nil, covered)
}

// CacheCost prices layer-by-layer execution with an activation SRAM of sram bytes used as
// the spill model's cache (Report.Traffic), every weight read once.
func (c *SimCoster) CacheCost(r *Report, sram int64) Cost {
	_, res := r.lv.residency(r.costs, sram)
	return c.layersCost(r, res, nil)
}

// layersCost prices every layer not covered, one at a time, with the residency given.
func (c *SimCoster) layersCost(r *Report, resident, covered []bool) Cost {
	lg := r.lv.lower(resident)
	var total Cost
	for k, l := range lg.layers {
		step := lg.step[k]
		if covered != nil && covered[step] {
			continue
		}
		d := nodeWeightsBytes(r.lv.g.Nodes[step], r.Bits) + lg.dram[k]
		cost := c.price(c.compute(l), d)
		total.Cycles += cost.Cycles
		total.EnergyJ += cost.EnergyJ
	}
	return total
}
