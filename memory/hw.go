package memory

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/lower"
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
// spill model decides which activations stay on chip with actSRAM bytes of the ifmap and
// ofmap SRAMs; every layer's InputsOnChip and OutputOnChip follow that choice, and each
// layer stages its operands in what the resident activations leave of the two SRAMs (one
// SRAM, two uses: sim.Layer.ResidentBytes). A negative actSRAM searches the budget instead
// (ActivationBudgets): the spill model and the engine run at every budget of the grid up to
// ActivationSRAM(cfg), and the best result on the report's objective is kept (ties: the
// smaller budget). The hardware runs at the report's data width and batch.
func (r *Report) Simulate(cfg *hw.Config, actSRAM int64) (*HWResult, error) {
	if cfg == nil {
		return nil, errors.New("memory: simulate: no hardware")
	}
	cfg = withBits(cfg, r.Bits)
	if actSRAM >= 0 {
		t, res := r.lv.residency(r.costs, actSRAM)
		return r.simulateAt(cfg, actSRAM, t, res)
	}
	var best *HWResult
	var tried [][]bool
	for _, b := range ActivationBudgets(cfg) {
		t, res := r.lv.residency(r.costs, b)
		if slices.ContainsFunc(tried, func(x []bool) bool { return slices.Equal(x, res) }) {
			continue // the same activations on chip as a smaller budget: the same run
		}
		tried = append(tried, res)
		h, err := r.simulateAt(cfg, b, t, res)
		if err != nil {
			return nil, err
		}
		if best == nil || betterRun(r.objective, h, best) {
			best = h
		}
	}
	return best, nil
}

// ActivationBudgets returns the activation budgets Report.Simulate searches on cfg: 0 and
// every power of two from 1 KiB to ActivationSRAM(cfg). The grid does not depend on cfg
// beyond its upper end, so a larger SRAM searches a superset of the budgets, each with more
// room left for staging: under the DRAM objective more SRAM never moves more bytes.
func ActivationBudgets(cfg *hw.Config) []int64 {
	bs := []int64{0}
	for b := int64(1 << 10); b <= ActivationSRAM(cfg); b *= 2 {
		bs = append(bs, b)
	}
	return bs
}

// betterRun reports whether a beats b on obj: latency (cycles, then energy, then DRAM
// bytes), energy, EDP or DRAM bytes first, the others breaking ties.
func betterRun(obj sim.Objective, a, b *HWResult) bool {
	type key struct{ x, y, z float64 }
	k := func(h *HWResult) key {
		c, e, d := float64(h.Cycles), h.EnergyJ, float64(h.DRAMBytes)
		switch obj {
		case sim.ObjectiveEnergy:
			return key{e, c, d}
		case sim.ObjectiveEDP:
			return key{e * c, c, d}
		case sim.ObjectiveDRAM:
			return key{d, c, e}
		}
		return key{c, e, d}
	}
	ka, kb := k(a), k(b)
	switch {
	case ka.x != kb.x:
		return ka.x < kb.x
	case ka.y != kb.y:
		return ka.y < kb.y
	}
	return ka.z < kb.z
}

// simulateAt runs the graph with the activations res keeps on chip (the spill model's
// choice at actSRAM bytes, traffic t).
func (r *Report) simulateAt(cfg *hw.Config, actSRAM int64, t Traffic, res []bool) (*HWResult, error) {
	layers, err := r.lv.lower(res)
	if err != nil {
		return nil, err
	}
	sr, err := sim.Simulate(cfg, layers.layers, sim.Options{Batch: r.Batch, Objective: r.objective})
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

// Layers returns the graph lowered to sim layers (package lower), each input and output on
// or off chip as the spill model decides with actSRAM bytes (negative: no activation SRAM)
// — the layers Simulate runs at that size. A design-space sweep lowers once per activation
// SRAM size and simulates the layers on many configurations; sim.Simulate does not change
// them. A graph with an operator that has no accelerator layer is an error.
func (r *Report) Layers(actSRAM int64) ([]sim.Layer, error) {
	if actSRAM < 0 {
		actSRAM = 0
	}
	_, res := r.lv.residency(r.costs, actSRAM)
	lg, err := r.lv.lower(res)
	return lg.layers, err
}

// Sweep returns the report's activation traffic at each SRAM size (TrafficSweep) as a chart
// series labelled with the model and form; with cfg, also the simulator's whole DRAM traffic
// at each size as the activation SRAM (Simulate(cfg, size).DRAMBytes).
func (r *Report) Sweep(sizes []int64, cfg *hw.Config) (TrafficSeries, error) {
	s := TrafficSeries{Label: label(r), Batch: r.Batch, Points: r.TrafficSweep(sizes)}
	if cfg == nil {
		return s, nil
	}
	s.Engine = make([]int64, len(sizes))
	for i, size := range sizes {
		h, err := r.Simulate(cfg, size)
		if err != nil {
			return TrafficSeries{}, err
		}
		s.Engine[i] = h.DRAMBytes
	}
	return s, nil
}

// loweredGraph is a graph as sim layers: step[i] is the node of layers[i], and dram[i] the
// activation DRAM bytes the spill model charges that layer under the residency it was
// lowered with (the broadcast operand of Mul included, which the sim layer leaves out).
type loweredGraph struct {
	layers []sim.Layer
	step   []int
	dram   []int64
}

// residency is the spill model's choice of on-chip buffers as a lower.Residency. An operand
// is on chip when the value is elided (see elided) or its buffer is resident — except the
// graph input, which its first reader loads from DRAM. A result is on chip when elided or
// resident, unless it is the graph output. A nil resident streams every buffer.
type residency struct {
	lv        *liveness
	resident  []bool
	firstRead []int // buffer → first step reading it
}

func (lv *liveness) residencyOf(resident []bool) *residency {
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
	return &residency{lv: lv, resident: resident, firstRead: firstRead}
}

// InputOnChip implements lower.Residency.
func (r *residency) InputOnChip(v *ir.Value, step int) bool {
	lv := r.lv
	if lv.elided(v.ID) {
		return true
	}
	b := lv.bufOf[v.ID]
	if r.resident == nil || !r.resident[b] {
		return false
	}
	return !(lv.buffers[b].Input && r.firstRead[b] == step)
}

// OutputOnChip implements lower.Residency.
func (r *residency) OutputOnChip(v *ir.Value) bool {
	lv := r.lv
	if lv.elided(v.ID) {
		return true
	}
	return v.ID != lv.g.Output.ID && r.resident != nil && r.resident[lv.bufOf[v.ID]]
}

// lower turns the graph into sim layers in schedule order (package lower: a ReLU that is
// the only reader of a Conv or Linear result is fused into it), on chip as resident says,
// and charges each layer the spill model's activation DRAM bytes.
func (lv *liveness) lower(resident []bool) (loweredGraph, error) {
	if lv.groups == nil {
		groups, err := lower.Groups(lv.g)
		if err != nil {
			return loweredGraph{}, fmt.Errorf("memory: %w", err)
		}
		lv.groups = groups
	}
	res := lv.residencyOf(resident)
	lg := loweredGraph{layers: lower.Layers(lv.g, lv.groups, res)}
	for k, gr := range lv.groups {
		n := lv.g.Nodes[gr.Step]
		var dram int64
		seen := make(map[int]bool, len(n.In))
		for _, v := range n.In {
			if !res.InputOnChip(v, gr.Step) && !seen[v.ID] {
				dram += lv.readBytes(v.ID, gr.Step)
			}
			seen[v.ID] = true
		}
		if !lg.layers[k].OutputOnChip {
			dram += lv.valBytes[gr.Out.ID]
		}
		// One SRAM, two uses: the resident activations live at this step hold part of the
		// ifmap and ofmap SRAMs, and the layer stages its operands in the rest. Its own
		// resident inputs are not counted: they are its ifmap buffer (read in place).
		own := make(map[int]bool, len(n.In))
		for _, v := range n.In {
			if res.InputOnChip(v, gr.Step) {
				own[lv.bufOf[v.ID]] = true
			}
		}
		for b, on := range resident {
			if buf := &lv.buffers[b]; on && !own[b] && buf.Start <= gr.Step && gr.Step <= buf.End {
				lg.layers[k].ResidentBytes += buf.Bytes
			}
		}
		lg.step = append(lg.step, gr.Step)
		lg.dram = append(lg.dram, dram)
	}
	return lg, nil
}

// engine prices fusion plans with the sim package's native engine (see doc.go, "Costs").
// Every layer outside a fused segment costs what the engine charges it in the
// layer-by-layer run (Report.Simulate with no activation SRAM); a fused segment's layers
// run band by band with every activation on chip, and the segment's DRAM traffic and
// stalls are added at segment level.
type engine struct {
	cfg   *hw.Config
	opts  sim.Options       // the batch and the mapper's objective
	lg    loweredGraph      // the layer-by-layer lowering
	base  []sim.LayerResult // the engine's results for lg.layers, no activation SRAM
	low   [][][]int         // chain → layer → indices into lg of the layer and its followers
	cache map[sim.LayerKey]sim.LayerResult
	err   error
}

func newEngine(cfg *hw.Config, r *Report, chains []FusionChain) (*engine, error) {
	lg, err := r.lv.lower(nil)
	if err != nil {
		return nil, err
	}
	e := &engine{cfg: withBits(cfg, r.Bits), opts: sim.Options{Batch: r.Batch, Objective: r.objective}, lg: lg,
		cache: make(map[sim.LayerKey]sim.LayerResult)}
	res, err := sim.Simulate(e.cfg, e.lg.layers, e.opts)
	if err != nil {
		return nil, fmt.Errorf("memory: fusion %s: %w", r.Model, err)
	}
	e.base = res.Layers
	at := make(map[int]int, len(e.lg.step)) // step → lowered layer
	for k, s := range e.lg.step {
		at[s] = k
	}
	e.low = make([][][]int, len(chains))
	for ci, c := range chains {
		e.low[ci] = make([][]int, len(c.Layers))
		for j, l := range c.Layers {
			for _, s := range l.steps {
				if k, ok := at[s]; ok {
					e.low[ci][j] = append(e.low[ci][j], k)
				}
			}
		}
	}
	return e, nil
}

func dramOf(r *sim.LayerResult) int64 { return r.DRAMReadBytes + r.DRAMWriteBytes }

// alone returns the DRAM bytes and cost of chain layer j of chain ci run layer by layer:
// the engine's numbers for its lowered layers in the layer-by-layer run.
func (e *engine) alone(ci, j int) (int64, Cost) {
	var d int64
	var c Cost
	for _, k := range e.low[ci][j] {
		b := &e.base[k]
		d += dramOf(b)
		c.Cycles += b.Cycles
		c.EnergyJ += b.EnergyJ
	}
	return d, c
}

// onChip returns the engine's result for l with every operand on chip (cached by shape).
func (e *engine) onChip(l sim.Layer) sim.LayerResult {
	key := l.Key()
	if v, ok := e.cache[key]; ok {
		return v
	}
	l.InputsOnChip = make([]bool, l.Inputs())
	for i := range l.InputsOnChip {
		l.InputsOnChip[i] = true
	}
	l.OutputOnChip = true
	res, err := sim.Simulate(e.cfg, []sim.Layer{l}, e.opts)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("memory: fusion: %w", err)
		}
		return sim.LayerResult{}
	}
	e.cache[key] = res.Layers[0]
	return res.Layers[0]
}

// bandLayer returns lowered layer l computing rows of its h output rows: a windowed layer
// reads exactly the input rows that give them, padding rows included as data (they are
// generated on chip); an elementwise follower works on rows rows.
func bandLayer(l sim.Layer, rows, h int) sim.Layer {
	if rows < h {
		switch l.Kind {
		case sim.Conv, sim.Pool:
			l.InH, l.PadH = (rows-1)*max(l.StrideH, 1)+max(l.KH, 1), 0
		default:
			l.InH = rows
		}
	}
	return l
}

// bandWork is what the engine charges a fused segment's layers run band by band with every
// activation on chip.
type bandWork struct {
	weights     []int64 // per layer: its weight bytes (read once when resident)
	filterDRAM  []int64 // per layer: its weight traffic over all bands when not resident
	compute     int64   // compute cycles, all layers and bands
	onChipJ     float64 // MAC, vector and on-chip SRAM energy (no DRAM fills)
	psum        int64   // partial sums spilled to DRAM
	in, out     int64   // the first layer's input read once, the last layer's output written once
	firstLoad   int64   // exposed before the first band: its input rows and first filter block
	firstFilter int64   // the filter part of firstLoad
	lastDrain   int64   // exposed after the last band: its output rows
}

// weights returns the weight bytes of each of layers [first, first+depth) of chain ci, as
// the engine reads them once (its lowered layers' unique filter bytes).
func (e *engine) weights(ci, first, depth int) []int64 {
	w := make([]int64, depth)
	for j := range depth {
		for _, k := range e.low[ci][first+j] {
			w[j] += e.base[k].UniqueFilterBytes
		}
	}
	return w
}

// bands runs layers [first, first+depth) of chain ci through the engine band by band, layer
// j computing per[j] rows per band, with held bytes of the ifmap and ofmap SRAMs held by the
// segment (its line buffers and resident weights) while every band layer runs.
func (e *engine) bands(c *FusionChain, ci, first, depth int, per []int, held int64) *bandWork {
	w := &bandWork{weights: e.weights(ci, first, depth), filterDRAM: make([]int64, depth)}
	fp := e.cfg.Energies().FilterSRAMpJPerByte * 1e-12
	for j := range depth {
		h := c.Layers[first+j].OutShape.H
		rows := per[j]
		full, rem := h/rows, h%rows
		for n, k := range e.low[ci][first+j] {
			bl := e.lg.layers[k]
			bl.ResidentBytes = held
			for _, part := range [2][2]int{{full, rows}, {1, rem}} {
				times, r := int64(part[0]), part[1]
				if r == 0 || times == 0 {
					continue
				}
				v := e.onChip(bandLayer(bl, r, h))
				w.filterDRAM[j] += times * v.DRAMFilterReadBytes
				w.compute += times * v.ComputeCycles
				// The band's on-chip energy, less the filter fills the segment prices itself.
				w.onChipJ += float64(times) * (v.EnergyMACJ + v.EnergySRAMJ - float64(v.DRAMFilterReadBytes)*fp)
				w.psum += times * (v.DRAMPsumReadBytes + v.DRAMPsumWriteBytes)
				if j == 0 && n == 0 && r == rows {
					w.firstLoad, w.firstFilter = v.UniqueIfmapBytes+v.FirstLoadBytes, v.FirstLoadBytes
				}
				if j == depth-1 && n == len(e.low[ci][first+j])-1 && r == rows {
					w.lastDrain = v.UniqueOfmapBytes
				}
			}
		}
	}
	ks := e.low[ci][first]
	w.in = e.base[ks[0]].UniqueIfmapBytes
	ks = e.low[ci][first+depth-1]
	w.out = e.base[ks[len(ks)-1]].UniqueOfmapBytes
	return w
}

// fused returns a fused segment's DRAM bytes and cost (see doc.go, "Costs"): the input read
// once, the output written once, every resident layer's weights once and the others as the
// engine re-reads them band after band, plus partial-sum spills. Time is a per-band
// roofline: the first band's input rows and first filter block load before anything
// runs, the last band's output rows drain after; in between each band takes the larger of
// its computation and its transfers (double buffering), the first band also bringing the
// resident weights.
func (e *engine) fused(w *bandWork, resident []bool, bands int) (int64, Cost) {
	d := w.in + w.out + w.psum
	var once int64
	for j, r := range resident {
		if r {
			d += w.weights[j]
			once += w.weights[j]
		} else {
			d += w.filterDRAM[j]
		}
	}
	cycles := w.compute
	if e.cfg.DRAMBandwidth > 0 {
		bwc := e.cfg.DRAMBandwidth / e.cfg.ClockHz
		// Saturating: a DRAM far too slow for the clock gives sim.OverflowCycles, not a
		// wrapped-around count (the engine's own layers fail with sim.ErrOverflow first).
		sat := func(x float64) int64 {
			if !(x < 1<<60) {
				return sim.OverflowCycles
			}
			return int64(x)
		}
		cyc := func(b int64) int64 { return sat(math.Ceil(float64(b) / bwc)) }
		f := min(w.firstLoad, d)
		l := min(w.lastDrain, d-f)
		x := d - f - l
		xOnce := min(x, max(0, once-w.firstFilter))
		n := float64(bands)
		c := float64(w.compute) / n
		rest := float64(x-xOnce) / n / bwc
		extra := max(0, float64(xOnce)/bwc+rest-c) + (n-1)*max(0, rest-c)
		cycles = sim.OverflowCycles
		if a, b, z := cyc(f), sat(math.Ceil(extra)), cyc(l); max(a, b, z) < 1<<60 {
			cycles = a + w.compute + b + z
		}
	}
	en := e.cfg.Energies()
	energy := w.onChipJ + float64(d)*(en.DRAMpJPerByte+en.IfmapSRAMpJPerByte)*1e-12 + en.LeakageW*float64(cycles)/e.cfg.ClockHz
	return d, Cost{Cycles: cycles, EnergyJ: energy}
}

// plan returns the whole network's DRAM bytes and cost under segs: the engine's
// layer-by-layer numbers for every lowered layer outside a fused segment, in schedule
// order, and each fused segment's at its first layer. With no fused segment this is
// exactly the engine's total for Report.Simulate(cfg, 0).
func (e *engine) plan(segs []Segment) (int64, Cost) {
	covered := make([]bool, len(e.base))
	at := make(map[int]*Segment)
	for i := range segs {
		s := &segs[i]
		if s.Depth < 2 {
			continue
		}
		for j := range s.Depth {
			for _, k := range e.low[s.Chain][s.First+j] {
				covered[k] = true
			}
		}
		at[e.low[s.Chain][s.First][0]] = s
	}
	var d int64
	var c Cost
	for k := range e.base {
		if s := at[k]; s != nil {
			d += s.DRAMBytes
			c.Cycles += s.Cost.Cycles
			c.EnergyJ += s.Cost.EnergyJ
		}
		if covered[k] {
			continue
		}
		b := &e.base[k]
		d += dramOf(b)
		c.Cycles += b.Cycles
		c.EnergyJ += b.EnergyJ
	}
	return d, c
}
