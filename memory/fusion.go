package memory

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/sim"
)

// DefaultMaxDepth is the deepest fusion FusionOptions.MaxDepth defaults to.
const DefaultMaxDepth = 6

// MaxFusionDepth is the deepest fusion Fusion accepts.
const MaxFusionDepth = 32

// exactSubsetDepth is the deepest segment whose resident-weight choice is searched
// exhaustively (2^12 subsets); deeper segments choose greedily.
const exactSubsetDepth = 12

// FusionOptions selects the data width, batch, on-chip budget, depths and hardware of a
// depth-first fusion analysis.
type FusionOptions struct {
	Bits  int // activation and weight width; 0 means DefaultBits
	Batch int // images per run; 0 means 1

	// SRAMBytes is the on-chip storage for line buffers (of a segment's input and its
	// intermediate maps) and resident weights, and for the cache plan the activation cache.
	// A segment's last output streams out through the array's ofmap SRAM, as in
	// layer-by-layer execution, and is not charged here. With Hardware it is part of the
	// hardware's ifmap and ofmap SRAMs (at most ActivationSRAM), one budget with operand
	// staging: what a fused segment holds is not there for its layers to stage operands in
	// (sim.Layer.ResidentBytes, sim.StagingBytes), and a segment fits only if the staging
	// floors remain.
	SRAMBytes int64
	// MaxDepth bounds the depths of the uniform plans (1..MaxDepth) and of the best plan's
	// segments; 0 means DefaultMaxDepth.
	MaxDepth int
	// Objective is what the best plan minimizes: "traffic" (DRAM bytes, the default),
	// "cycles" or "energy" (these need Hardware).
	Objective string
	// Hardware, when set, prices every plan with the sim package's native engine (see doc.go,
	// "Costs"): DRAM bytes, cycles and energy are then the simulator's, and the layer-by-layer
	// plan is exactly Report.Simulate(Hardware, 0). Without it, DRAM bytes are the fusion
	// model's (every byte moved once) and there are no cycles or energy.
	Hardware *hw.Config
	// Mapper is what the engine's mapper minimizes per layer (sim.Options.Objective); the
	// default, latency, is what `vggsim memory` runs. Under sim.ObjectiveDRAM with the
	// traffic objective a larger SRAM never moves more bytes (TestFusionOneBudget).
	Mapper sim.Objective
}

// hwSubsetDepth is the deepest segment whose resident-weight choice is searched
// exhaustively on hardware (2^6 subsets, each priced by the engine); deeper segments try
// the prefixes of one order.
const hwSubsetDepth = 6

// FusionLayer is one windowed layer (Conv or MaxPool) of a fusable chain, with the
// elementwise ops that follow it (BN, ReLU) folded into its output stage.
type FusionLayer struct {
	Node     string   `json:"node"`
	Op       string   `json:"op"`
	Out      string   `json:"out_node"` // the node whose result the next layer reads
	K        int      `json:"k"`        // window height
	Stride   int      `json:"stride"`
	Pad      int      `json:"pad"`
	In       ir.Shape `json:"-"`
	OutShape ir.Shape `json:"-"`
	InBytes  int64    `json:"in_bytes"`  // read of the input, whole batch (see readBytes)
	OutBytes int64    `json:"out_bytes"` // whole batch
	// WeightsBytes is the layer's parameters and those of its elementwise followers (conv
	// weight and bias; BatchNorm's four vectors), at the data width.
	WeightsBytes int64 `json:"weights_bytes"`
	MACs         int64 `json:"macs"` // whole batch

	node  *ir.Node
	steps []int // the schedule steps of the layer and its followers
}

// FusionChain is a maximal run of windowed layers in which each layer's result (after its
// elementwise ops) is read only by the next layer: the candidates for depth-first fusion.
type FusionChain struct {
	Layers []FusionLayer `json:"layers"`
}

// Segment is a run of Depth consecutive chain layers executed depth-first: BandRows rows of
// the last layer's output per band, every layer advancing by the rows the next one needs,
// the intermediate maps kept in line buffers and never written to DRAM. A segment of depth
// 1 is its layer executed alone, layer by layer.
type Segment struct {
	Chain    int `json:"chain"`
	First    int `json:"first"` // index of the first layer in the chain
	Depth    int `json:"depth"`
	BandRows int `json:"band_rows"` // output rows of the last layer per band
	Bands    int `json:"bands"`
	// LineRows are the rows held of each map the segment reads: the segment's input, then
	// each intermediate map (Depth of them; none for depth 1).
	LineRows []int `json:"line_rows"`
	// LineBufferBytes is Σ LineRows·W·C·batch·bytes over those maps (with a single band,
	// whose layers run one after another on whole maps, the largest sum of one layer's
	// input and output maps); HaloBytes the part carried from one band to the next ((K−S)
	// rows of each).
	LineBufferBytes int64 `json:"line_buffer_bytes"`
	HaloBytes       int64 `json:"halo_bytes"`
	// WeightsBytes of all layers; ResidentWeightsBytes of those kept on chip for the whole
	// segment (read once), the others are re-read from DRAM once per band.
	WeightsBytes         int64 `json:"weights_bytes"`
	ResidentWeightsBytes int64 `json:"resident_weights_bytes"`
	// The fusion model's DRAM traffic of the segment (whole batch), every byte moved once:
	// the first layer's input read once, the last layer's output written once, the weights;
	// SavedBytes is the intermediate traffic a layer-by-layer run would have (each
	// intermediate written and read back once). ModelDRAMBytes is their total.
	ReadBytes          int64 `json:"model_dram_read_bytes"`
	WriteBytes         int64 `json:"model_dram_write_bytes"`
	WeightTrafficBytes int64 `json:"model_dram_weight_bytes"`
	SavedBytes         int64 `json:"model_saved_bytes"`
	ModelDRAMBytes     int64 `json:"model_dram_bytes"`
	// DRAMBytes is the segment's DRAM traffic: the simulator's with hardware (see doc.go,
	// "Costs"), otherwise ModelDRAMBytes.
	DRAMBytes int64 `json:"dram_bytes"`
	// SRAMBytes is what the segment occupies: line buffers plus resident weights. Fits
	// reports whether its line buffers fit the budget (depth 1 always fits); with hardware,
	// also whether they leave the staging floors of the ifmap and ofmap SRAMs.
	SRAMBytes int64 `json:"sram_bytes"`
	Fits      bool  `json:"fits"`
	// StagingBytes is, with hardware, what the ifmap and ofmap SRAMs leave each of the
	// segment's layers to stage operands in while the segment holds SRAMBytes of them
	// (sim.StagingBytes): SRAMBytes + StagingBytes = ifmap + ofmap SRAM when the segment fits.
	StagingBytes int64 `json:"staging_bytes,omitempty"`

	Cost Cost `json:"cost"` // with hardware
}

// Cost is the price of some work on hardware: cycles and energy.
type Cost struct {
	Cycles  int64   `json:"cycles"`
	EnergyJ float64 `json:"energy_j"`
}

// FusionPlan is a partition of every chain into segments, and the whole network's DRAM
// traffic under it (layers outside the chains run layer by layer).
type FusionPlan struct {
	// Depth is the uniform depth of the plan, or 0 for the best mix of depths.
	Depth    int       `json:"depth"`
	Segments []Segment `json:"segments"`
	// ModelDRAMBytes is the whole network's traffic for one run in the fusion model:
	// activations layer by layer (Report.StreamBytes) plus every weight once, minus the
	// intermediates the segments keep on chip, plus the weight re-reads of segments whose
	// weights are not resident. DRAMBytes is the simulator's with hardware (every layer
	// outside a fused segment as Report.Simulate runs it with no activation SRAM), else
	// ModelDRAMBytes.
	DRAMBytes      int64 `json:"dram_bytes"`
	ModelDRAMBytes int64 `json:"model_dram_bytes"`
	// SRAMBytes is the largest on-chip need of any segment (line buffers + resident
	// weights); MinSRAMBytes the smallest budget with which every segment's line buffers
	// fit (band of one row, no resident weights).
	SRAMBytes    int64 `json:"sram_bytes"`
	MinSRAMBytes int64 `json:"min_sram_bytes"`
	Fits         bool  `json:"fits"`
	Cost         Cost  `json:"cost"`
}

// CachePlan is layer-by-layer execution with the fusion budget used as a whole-tensor
// activation cache instead of line buffers: the spill model (Report.Traffic) plus every
// weight once, and with hardware Report.Simulate at that activation SRAM.
type CachePlan struct {
	DRAMBytes      int64 `json:"dram_bytes"`
	ModelDRAMBytes int64 `json:"model_dram_bytes"`
	Cost           Cost  `json:"cost"`
}

// FusionReport is the depth-first fusion analysis of one graph.
type FusionReport struct {
	Model     string        `json:"model"`
	Hardware  string        `json:"hardware,omitempty"`
	Bits      int           `json:"bits"`
	Batch     int           `json:"batch"`
	SRAMBytes int64         `json:"sram_bytes"`
	Chains    []FusionChain `json:"chains"`
	// LayerByLayer is the plan of depth 1 everywhere; Depths[k-1] the uniform plan of depth
	// k; Best the plan of least Objective whose segments all fit, depths 1..MaxDepth mixed.
	LayerByLayer FusionPlan   `json:"layer_by_layer"`
	Depths       []FusionPlan `json:"depths"`
	Best         FusionPlan   `json:"best"`
	Cache        CachePlan    `json:"cache"`
	// FloorBytes is the least traffic of any execution in the fusion model: the compulsory
	// activation traffic (input read once, output written once) plus every weight once.
	FloorBytes int64 `json:"floor_dram_bytes"`

	report *Report
	opts   FusionOptions
	eng    *engine // nil without hardware
}

// Fusion analyzes depth-first fusion of g's windowed-layer chains (see doc.go).
func Fusion(g *ir.Graph, opts FusionOptions) (*FusionReport, error) {
	if opts.MaxDepth == 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.Objective == "" {
		opts.Objective = "traffic"
	}
	var errs []error
	if opts.MaxDepth < 1 || opts.MaxDepth > MaxFusionDepth {
		errs = append(errs, fmt.Errorf("max depth %d out of range 1..%d", opts.MaxDepth, MaxFusionDepth))
	}
	if opts.SRAMBytes < 0 {
		errs = append(errs, fmt.Errorf("sram %d must not be negative", opts.SRAMBytes))
	}
	switch opts.Objective {
	case "traffic":
	case "cycles", "energy":
		if opts.Hardware == nil {
			errs = append(errs, fmt.Errorf("objective %q needs hardware", opts.Objective))
		}
	default:
		errs = append(errs, fmt.Errorf("objective %q: want traffic, cycles or energy", opts.Objective))
	}
	if h := opts.Hardware; h != nil && opts.SRAMBytes > ActivationSRAM(h) {
		errs = append(errs, fmt.Errorf("sram %d exceeds the ifmap+ofmap SRAM of %s (%d bytes), which line buffers, resident weights and operand staging share",
			opts.SRAMBytes, h.Name, ActivationSRAM(h)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("memory: fusion: %w", err)
	}
	r, err := Analyze(g, Options{Bits: opts.Bits, Batch: opts.Batch, Objective: opts.Mapper})
	if err != nil {
		return nil, err
	}
	opts.Bits, opts.Batch = r.Bits, r.Batch
	fr := &FusionReport{Model: g.Name, Bits: r.Bits, Batch: r.Batch, SRAMBytes: opts.SRAMBytes,
		Chains: findChains(r.lv), report: r, opts: opts}
	if opts.Hardware != nil {
		if fr.eng, err = newEngine(opts.Hardware, r, fr.Chains); err != nil {
			return nil, err
		}
		fr.Hardware = fr.eng.cfg.Name
	}
	for k := 1; k <= opts.MaxDepth; k++ {
		fr.Depths = append(fr.Depths, fr.uniform(k))
	}
	fr.LayerByLayer = fr.Depths[0]
	fr.Best = fr.best()
	fr.Cache.ModelDRAMBytes = r.Traffic(opts.SRAMBytes).Bytes() + r.WeightsBytes
	fr.Cache.DRAMBytes = fr.Cache.ModelDRAMBytes
	if fr.eng != nil {
		h, err := r.Simulate(fr.eng.cfg, opts.SRAMBytes)
		if err != nil {
			return nil, err
		}
		fr.Cache.DRAMBytes, fr.Cache.Cost = h.DRAMBytes, Cost{h.Cycles, h.EnergyJ}
	}
	fr.FloorBytes = r.CompulsoryBytes + r.WeightsBytes
	if fr.eng != nil && fr.eng.err != nil {
		return nil, fr.eng.err
	}
	return fr, nil
}

// findChains returns the maximal chains of two or more windowed layers.
func findChains(lv *liveness) []FusionChain {
	g := lv.g
	prodOf := func(v *ir.Value) *ir.Node { return g.Nodes[lv.stepOf[v.ID]] }
	// pred[step] = step of the chain predecessor of the windowed layer at step, or -1; the
	// link value is the node's operand.
	n := len(g.Nodes)
	pred := make([]int, n)
	succ := make([]int, n)
	outOf := make([]*ir.Node, n) // windowed layer step → the node whose result the next layer reads
	for i := range pred {
		pred[i], succ[i] = -1, -1
	}
	windowed := func(nd *ir.Node) bool { return nd.Op == ir.Conv || nd.Op == ir.MaxPool }
	for i, nd := range g.Nodes {
		if !windowed(nd) {
			continue
		}
		v := nd.In[0]
		if len(lv.readers[v.ID]) != 1 || v.ID == g.Output.ID {
			continue
		}
		p := prodOf(v)
		last := p
		ok := true
		for unaryElementwise(p.Op) {
			u := p.In[0]
			if len(lv.readers[u.ID]) != 1 {
				ok = false
				break
			}
			p = prodOf(u)
		}
		if ok && windowed(p) {
			j := lv.stepOf[p.Out.ID]
			pred[i], succ[j], outOf[j] = j, i, last
		}
	}
	var chains []FusionChain
	for i, nd := range g.Nodes {
		if !windowed(nd) || pred[i] >= 0 || succ[i] < 0 {
			continue
		}
		var c FusionChain
		for j := i; j >= 0; j = succ[j] {
			c.Layers = append(c.Layers, lv.fusionLayer(g.Nodes[j], outOf[j]))
		}
		chains = append(chains, c)
	}
	return chains
}

func (lv *liveness) fusionLayer(nd, out *ir.Node) FusionLayer {
	if out == nil {
		out = nd
	}
	a := nd.Attrs
	l := FusionLayer{Node: nd.Name, Op: nd.Op.String(), Out: out.Name, K: a.KH, Stride: max(a.Stride, 1), Pad: a.Pad,
		In: nd.In[0].Shape, OutShape: nd.Out.Shape,
		InBytes: lv.readBytes(nd.In[0].ID, lv.stepOf[nd.Out.ID]), OutBytes: lv.valBytes[out.Out.ID],
		MACs: nd.MACs() * int64(lv.opts.Batch), node: nd}
	// The layer and its elementwise followers up to out, each read only by the next.
	var elems int64
	for v := nd.Out; ; {
		s := lv.stepOf[v.ID]
		l.steps = append(l.steps, s)
		elems += weightElems(lv.g.Nodes[s])
		if lv.g.Nodes[s] == out {
			break
		}
		v = lv.g.Nodes[lv.readers[v.ID][0]].Out
	}
	l.WeightsBytes = bytesOf(elems, 1, lv.opts.Bits)
	return l
}

// lineRows returns the band plan of layers [first, first+depth) of c with band rows of the
// last output: the rows held of each map the segment reads (hold[0] of the segment's input,
// hold[j] of layer j's output, the input of layer j+1), and the rows each layer computes
// per band (see doc.go, "Depth-first fusion").
func lineRows(c *FusionChain, first, depth, band int) (hold []int, per []int) {
	per = make([]int, depth)
	hold = make([]int, depth)
	r := band
	for j := depth - 1; j >= 0; j-- {
		l := &c.Layers[first+j]
		r = min(r, l.OutShape.H)
		per[j] = r
		// layer j holds (R_j − 1)·s_j + K_j rows of its input
		hold[j] = min((r-1)*l.Stride+l.K, l.In.H)
		r *= l.Stride
	}
	return hold, per
}

// segment evaluates layers [first, first+depth) of chain ci with band rows, under budget:
// its geometry, the fusion model's traffic, the resident weights that minimize the traffic
// and, with hardware, the simulator's traffic and cost.
func (fr *FusionReport) segment(ci, first, depth, band int, budget int64) Segment {
	c := &fr.Chains[ci]
	last := &c.Layers[first+depth-1]
	s := Segment{Chain: ci, First: first, Depth: depth}
	for j := range depth {
		s.WeightsBytes += c.Layers[first+j].WeightsBytes
	}
	s.ReadBytes, s.WriteBytes = c.Layers[first].InBytes, last.OutBytes
	if depth == 1 {
		// Layer by layer: the whole map, weights streamed once.
		s.BandRows, s.Bands = last.OutShape.H, 1
		s.WeightTrafficBytes = s.WeightsBytes
		s.ModelDRAMBytes = s.ReadBytes + s.WriteBytes + s.WeightTrafficBytes
		s.DRAMBytes, s.Fits = s.ModelDRAMBytes, true
		if fr.eng != nil {
			s.DRAMBytes, s.Cost = fr.eng.alone(ci, first)
		}
		return s
	}
	per := fr.bandPlan(&s, band)
	capacity := fr.capacity(budget)
	s.Fits = s.LineBufferBytes <= capacity
	if fr.eng != nil {
		fr.residentOnHardware(&s, per, capacity)
		return s
	}

	// Weights: each layer's are either resident (read once) or re-read every band. Choose
	// the resident set with the largest saving that fits beside the line buffers.
	// w[j]: layer j's weight bytes, what they occupy and move when resident; every[j]: their
	// traffic when re-read every band.
	w, every := make([]int64, depth), make([]int64, depth)
	for j := range depth {
		l := &c.Layers[first+j]
		w[j], every[j] = l.WeightsBytes, int64(s.Bands)*l.WeightsBytes
	}
	resident := make([]bool, depth)
	if s.Fits {
		resident = chooseResident(w, every, capacity-s.LineBufferBytes)
	}
	fr.setResident(&s, w, resident)
	s.DRAMBytes = s.ModelDRAMBytes
	return s
}

// capacity returns what a segment may hold of budget: with hardware, no more than leaves
// the ifmap and ofmap SRAMs their staging floors (hw.Config.MinSRAMBytes), so that what the
// segment holds plus what its layers stage in never exceeds the two SRAMs.
func (fr *FusionReport) capacity(budget int64) int64 {
	if fr.eng == nil {
		return budget
	}
	minIf, _, minOf := fr.eng.cfg.MinSRAMBytes()
	return min(budget, ActivationSRAM(fr.eng.cfg)-minIf-minOf)
}

// setResident fills in s's resident weights (w[j] bytes for layer j when resident[j]),
// the SRAM it occupies and the fusion model's traffic.
func (fr *FusionReport) setResident(s *Segment, w []int64, resident []bool) {
	c := &fr.Chains[s.Chain]
	s.ResidentWeightsBytes, s.WeightTrafficBytes = 0, 0
	for j := range s.Depth {
		l := &c.Layers[s.First+j]
		if resident[j] {
			s.ResidentWeightsBytes += w[j]
			s.WeightTrafficBytes += l.WeightsBytes
		} else {
			s.WeightTrafficBytes += int64(s.Bands) * l.WeightsBytes
		}
	}
	s.SRAMBytes = s.LineBufferBytes + s.ResidentWeightsBytes
	s.ModelDRAMBytes = s.ReadBytes + s.WriteBytes + s.WeightTrafficBytes
}

// residentOnHardware chooses s's resident weights on hardware and prices s with the engine.
// One budget: the segment's line buffers and resident weights hold part of the ifmap and
// ofmap SRAMs for the whole segment, so every band layer runs with that many bytes resident
// (sim.Layer.ResidentBytes) and stages its operands in the rest. Keeping weights on chip
// saves their re-reads but shrinks the staging, so each candidate resident set is priced
// and the best on the objective kept (ties: less traffic, then less SRAM): every subset
// that fits capacity up to hwSubsetDepth layers, beyond that the prefixes of the layers in
// order of saving per byte. The candidates at a larger capacity include those at a
// smaller one, each priced the same, so the chosen segment never gets worse on the
// objective as the budget grows.
func (fr *FusionReport) residentOnHardware(s *Segment, per []int, capacity int64) {
	c := &fr.Chains[s.Chain]
	depth := s.Depth
	e := fr.eng
	w := e.weights(s.Chain, s.First, depth)
	price := func(resident []bool) Segment {
		t := *s
		fr.setResident(&t, w, resident)
		bw := e.bands(c, s.Chain, s.First, depth, per, t.SRAMBytes)
		t.DRAMBytes, t.Cost = e.fused(bw, resident, t.Bands)
		ifB, ofB := sim.StagingBytes(e.cfg, t.SRAMBytes)
		t.StagingBytes = ifB + ofB
		return t
	}
	none := make([]bool, depth)
	best := price(none)
	if !s.Fits {
		*s = best
		return
	}
	room := capacity - s.LineBufferBytes
	try := func(resident []bool) {
		if t := price(resident); fr.better(&t, &best) {
			best = t
		}
	}
	if depth <= hwSubsetDepth {
		for m := 1; m < 1<<depth; m++ {
			var bytes int64
			resident := make([]bool, depth)
			for j := range depth {
				if m&(1<<j) != 0 {
					resident[j], bytes = true, bytes+w[j]
				}
			}
			if bytes <= room {
				try(resident)
			}
		}
	} else {
		// Order by saving per byte with nothing resident.
		every := e.bands(c, s.Chain, s.First, depth, per, s.LineBufferBytes).filterDRAM
		order := make([]int, depth)
		for i := range order {
			order[i] = i
		}
		density := func(i int) float64 { return float64(every[i]-w[i]) / float64(max(w[i], 1)) }
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(density(b), density(a)) })
		resident := make([]bool, depth)
		var bytes int64
		for _, j := range order {
			if bytes += w[j]; bytes > room {
				break
			}
			resident[j] = true
			try(slices.Clone(resident))
		}
	}
	*s = best
}

// bandPlan fills in the band geometry of s, a segment of depth 2 or more, with band rows of
// the last output per band: BandRows, Bands, LineRows, LineBufferBytes, HaloBytes and
// SavedBytes. It returns the rows each layer computes per band.
func (fr *FusionReport) bandPlan(s *Segment, band int) (per []int) {
	c := &fr.Chains[s.Chain]
	first, depth := s.First, s.Depth
	last := &c.Layers[first+depth-1]
	hold, per := lineRows(c, first, depth, band)
	s.LineRows = hold
	s.BandRows = min(band, last.OutShape.H)
	s.Bands = (last.OutShape.H + s.BandRows - 1) / s.BandRows
	// held[j]: bytes held of map j, the input of layer j (map 0 the segment's input); the
	// last layer's output is not held.
	held := make([]int64, depth+1)
	for j := range depth {
		l := &c.Layers[first+j]
		row := bytesOf(int64(l.In.W)*int64(l.In.C), fr.Batch, fr.Bits)
		held[j] = int64(hold[j]) * row
		s.LineBufferBytes += held[j]
		if s.Bands > 1 {
			s.HaloBytes += int64(max(l.K-l.Stride, 0)) * row
		}
		if j > 0 {
			s.SavedBytes += c.Layers[first+j-1].OutBytes + l.InBytes
		}
	}
	if s.Bands == 1 {
		// One band: the layers run one after another on whole maps and nothing is carried
		// to a next band, so only a layer's input and output maps exist at once.
		s.LineBufferBytes = 0
		for j := 1; j <= depth; j++ {
			s.LineBufferBytes = max(s.LineBufferBytes, held[j-1]+held[j])
		}
	}
	return per
}

// chooseResident returns the layers whose weights stay on chip: the set with the largest
// traffic saving Σ (every − w) whose bytes w fit in capacity (ties: fewer bytes), where a
// resident layer's weights occupy and move w bytes and a streamed one's move every bytes.
// The search is exhaustive up to exactSubsetDepth layers, so the saving never shrinks when
// the capacity grows; deeper segments take layers greedily by saving per byte.
func chooseResident(w, every []int64, capacity int64) []bool {
	n := len(w)
	res := make([]bool, n)
	if capacity <= 0 {
		return res
	}
	if n > exactSubsetDepth {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		density := func(i int) float64 { return float64(every[i]-w[i]) / float64(max(w[i], 1)) }
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(density(b), density(a)) })
		left := capacity
		for _, i := range order {
			if every[i] > w[i] && w[i] <= left {
				res[i], left = true, left-w[i]
			}
		}
		return res
	}
	best, bestSave, bestBytes := uint32(0), int64(0), int64(0)
	for m := uint32(1); m < 1<<n; m++ {
		var bytes, save int64
		for x := m; x != 0; x &= x - 1 {
			i := bits.TrailingZeros32(x)
			bytes += w[i]
			save += every[i] - w[i]
		}
		if bytes <= capacity && (save > bestSave || (save == bestSave && save > 0 && bytes < bestBytes)) {
			best, bestSave, bestBytes = m, save, bytes
		}
	}
	for i := range n {
		res[i] = best&(1<<i) != 0
	}
	return res
}

// bestSegment returns the segment [first, first+depth) with the band height that minimizes
// the objective among those whose line buffers fit; if none fits, the one-row band marked
// as not fitting.
func (fr *FusionReport) bestSegment(ci, first, depth int, budget int64) Segment {
	c := &fr.Chains[ci]
	if depth == 1 {
		return fr.segment(ci, first, 1, 0, budget)
	}
	h := c.Layers[first+depth-1].OutShape.H
	var best, oneRow Segment
	found := false
	for band := 1; ; band *= 2 {
		b := min(band, h)
		s := fr.segment(ci, first, depth, b, budget)
		if band == 1 {
			oneRow = s
		}
		if s.Fits && (!found || fr.better(&s, &best)) {
			best, found = s, true
		}
		if b == h {
			break
		}
	}
	if !found {
		return oneRow
	}
	return best
}

// objective returns the quantity the best plan minimizes for a segment.
func (fr *FusionReport) objective(s *Segment) float64 {
	switch fr.opts.Objective {
	case "cycles":
		return float64(s.Cost.Cycles)
	case "energy":
		return s.Cost.EnergyJ
	}
	return float64(s.DRAMBytes)
}

// better orders segments by objective, then traffic, then SRAM used.
func (fr *FusionReport) better(a, b *Segment) bool {
	if oa, ob := fr.objective(a), fr.objective(b); oa != ob {
		return oa < ob
	}
	if a.DRAMBytes != b.DRAMBytes {
		return a.DRAMBytes < b.DRAMBytes
	}
	return a.SRAMBytes < b.SRAMBytes
}

// uniform returns the plan that cuts every chain into segments of depth k (the last one of
// a chain shorter).
func (fr *FusionReport) uniform(k int) FusionPlan {
	p := FusionPlan{Depth: k}
	for ci, c := range fr.Chains {
		for first := 0; first < len(c.Layers); first += k {
			p.Segments = append(p.Segments, fr.bestSegment(ci, first, min(k, len(c.Layers)-first), fr.opts.SRAMBytes))
		}
	}
	fr.total(&p)
	return p
}

// best returns the plan of least objective over all partitions of each chain into
// fitting segments of depth 1..MaxDepth: a shortest path over the chain positions.
func (fr *FusionReport) best() FusionPlan {
	p := FusionPlan{}
	for ci, c := range fr.Chains {
		n := len(c.Layers)
		type entry struct {
			obj   float64
			bytes int64
			seg   Segment
			ok    bool
		}
		dp := make([]entry, n+1)
		dp[n].ok = true
		for i := n - 1; i >= 0; i-- {
			for k := 1; k <= min(fr.opts.MaxDepth, n-i); k++ {
				s := fr.bestSegment(ci, i, k, fr.opts.SRAMBytes)
				if !s.Fits || !dp[i+k].ok {
					continue
				}
				e := entry{fr.objective(&s) + dp[i+k].obj, s.DRAMBytes + dp[i+k].bytes, s, true}
				if !dp[i].ok || e.obj < dp[i].obj || (e.obj == dp[i].obj && e.bytes < dp[i].bytes) {
					dp[i] = e
				}
			}
		}
		for i := 0; i < n; i += dp[i].seg.Depth {
			p.Segments = append(p.Segments, dp[i].seg)
		}
	}
	fr.total(&p)
	return p
}

// total fills the plan's network-wide numbers from its segments.
func (fr *FusionReport) total(p *FusionPlan) {
	r := fr.report
	p.ModelDRAMBytes = r.StreamBytes + r.WeightsBytes
	p.Fits = true
	for i := range p.Segments {
		s := &p.Segments[i]
		p.ModelDRAMBytes += s.WeightTrafficBytes - s.WeightsBytes - s.SavedBytes
		p.SRAMBytes = max(p.SRAMBytes, s.SRAMBytes)
		p.Fits = p.Fits && s.Fits
		if s.Depth > 1 {
			// The line buffers of one-row bands; no need to price the segment.
			one := Segment{Chain: s.Chain, First: s.First, Depth: s.Depth}
			fr.bandPlan(&one, 1)
			p.MinSRAMBytes = max(p.MinSRAMBytes, one.LineBufferBytes)
		}
	}
	p.DRAMBytes = p.ModelDRAMBytes
	if fr.eng != nil {
		p.DRAMBytes, p.Cost = fr.eng.plan(p.Segments)
	}
}
