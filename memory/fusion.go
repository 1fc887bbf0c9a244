package memory

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/vggsim/vggsim/ir"
)

// DefaultMaxDepth is the deepest fusion FusionOptions.MaxDepth defaults to.
const DefaultMaxDepth = 6

// MaxFusionDepth is the deepest fusion Fusion accepts.
const MaxFusionDepth = 32

// FusionOptions selects the data width, batch, on-chip budget and depths of a depth-first
// fusion analysis.
type FusionOptions struct {
	Bits  int // activation and weight width; 0 means DefaultBits
	Batch int // images per run; 0 means 1

	// SRAMBytes is the on-chip storage for line buffers and resident weights. The
	// operand staging of the segment's first input and last output is the array's own
	// ifmap/ofmap SRAM, as in layer-by-layer execution, and is not charged here.
	SRAMBytes int64
	// MaxDepth bounds the depths of the uniform plans (1..MaxDepth) and of the best plan's
	// segments; 0 means DefaultMaxDepth.
	MaxDepth int
	// Objective is what the best plan minimizes: "traffic" (DRAM bytes, the default),
	// "cycles" or "energy" (these need a cost model; see FusionWithCost).
	Objective string
}

// FusionLayer is one windowed layer (Conv or MaxPool) of a fusable chain, with the
// elementwise ops that follow it (BN, ReLU) folded into its output stage.
type FusionLayer struct {
	Node         string   `json:"node"`
	Op           string   `json:"op"`
	Out          string   `json:"out_node"` // the node whose result the next layer reads
	K            int      `json:"k"`        // window height
	Stride       int      `json:"stride"`
	Pad          int      `json:"pad"`
	In           ir.Shape `json:"-"`
	OutShape     ir.Shape `json:"-"`
	InBytes      int64    `json:"in_bytes"`      // read of the input, whole batch (see readBytes)
	OutBytes     int64    `json:"out_bytes"`     // whole batch
	WeightsBytes int64    `json:"weights_bytes"` // the layer's own parameters (conv weight and bias)
	MACs         int64    `json:"macs"`          // whole batch

	node *ir.Node
}

// FusionChain is a maximal run of windowed layers in which each layer's result (after its
// elementwise ops) is read only by the next layer: the candidates for depth-first fusion.
type FusionChain struct {
	Layers []FusionLayer `json:"layers"`
}

// Segment is a run of Depth consecutive chain layers executed depth-first: BandRows rows of
// the last layer's output per band, every layer advancing by the rows the next one needs,
// the intermediate maps kept in line buffers and never written to DRAM.
type Segment struct {
	Chain    int   `json:"chain"`
	First    int   `json:"first"` // index of the first layer in the chain
	Depth    int   `json:"depth"`
	BandRows int   `json:"band_rows"` // output rows of the last layer per band
	Bands    int   `json:"bands"`
	LineRows []int `json:"line_rows"` // rows held of each intermediate map (Depth-1 of them)
	// LineBufferBytes is Σ LineRows·W·C·batch·bytes over the intermediate maps (with a
	// single band, whose layers run one after another on whole maps, the largest sum of
	// one layer's input and output maps); HaloBytes the part carried from one band to the
	// next ((K−S) rows of each intermediate).
	LineBufferBytes int64 `json:"line_buffer_bytes"`
	HaloBytes       int64 `json:"halo_bytes"`
	// WeightsBytes of all layers; ResidentWeightsBytes of those kept on chip for the whole
	// segment, the others are re-read from DRAM once per band.
	WeightsBytes         int64 `json:"weights_bytes"`
	ResidentWeightsBytes int64 `json:"resident_weights_bytes"`
	// DRAM traffic of the segment (whole batch): the first layer's input read once, the last
	// layer's output written once, weights; SavedBytes is the intermediate traffic a
	// layer-by-layer run would have (each intermediate written and read back once).
	ReadBytes          int64 `json:"dram_read_bytes"`
	WriteBytes         int64 `json:"dram_write_bytes"`
	WeightTrafficBytes int64 `json:"dram_weight_bytes"`
	SavedBytes         int64 `json:"saved_bytes"`
	// SRAMBytes is what the segment occupies: line buffers plus resident weights. Fits
	// reports whether its line buffers fit the budget (depth 1 always fits).
	SRAMBytes int64 `json:"sram_bytes"`
	Fits      bool  `json:"fits"`

	Cost Cost `json:"cost"` // filled when a cost model is given
}

// DRAMBytes returns the segment's total DRAM traffic.
func (s *Segment) DRAMBytes() int64 { return s.ReadBytes + s.WriteBytes + s.WeightTrafficBytes }

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
	// DRAMBytes is the whole network's traffic for one run: activations layer by layer
	// (Report.StreamBytes) plus every weight once, minus the intermediates the segments keep
	// on chip, plus the weight re-reads of segments whose weights are not resident.
	DRAMBytes int64 `json:"dram_bytes"`
	// SRAMBytes is the largest on-chip need of any segment (line buffers + resident
	// weights); MinSRAMBytes the smallest budget with which every segment's line buffers
	// fit (band of one row, no resident weights).
	SRAMBytes    int64 `json:"sram_bytes"`
	MinSRAMBytes int64 `json:"min_sram_bytes"`
	Fits         bool  `json:"fits"`
	Cost         Cost  `json:"cost"`
}

// FusionReport is the depth-first fusion analysis of one graph.
type FusionReport struct {
	Model     string        `json:"model"`
	Bits      int           `json:"bits"`
	Batch     int           `json:"batch"`
	SRAMBytes int64         `json:"sram_bytes"`
	Chains    []FusionChain `json:"chains"`
	// LayerByLayer is the plan of depth 1 everywhere; Depths[k-1] the uniform plan of depth
	// k; Best the plan of least Objective whose segments all fit, depths 1..MaxDepth mixed.
	LayerByLayer FusionPlan   `json:"layer_by_layer"`
	Depths       []FusionPlan `json:"depths"`
	Best         FusionPlan   `json:"best"`
	// CacheBytes is layer-by-layer execution using the same SRAM as a whole-tensor
	// activation cache instead (the spill model, Report.Traffic), plus every weight once.
	CacheBytes int64 `json:"cache_dram_bytes"`
	CacheCost  Cost  `json:"cache_cost"`
	// FloorBytes is the least traffic any execution has: the compulsory activation traffic
	// (input read once, output written once) plus every weight once.
	FloorBytes int64 `json:"floor_dram_bytes"`

	report *Report
	opts   FusionOptions
	coster SegmentCoster
	rest   Cost // RestCost, computed once
}

// SegmentCoster prices a segment on hardware (cycles and energy), given its traffic. The
// memory package's hardware adapter implements it with the sim package; nil means traffic
// only.
type SegmentCoster interface {
	// SegmentCost prices layers executed depth-first in bands (depth 1: the layer alone,
	// exactly as layer-by-layer simulation prices it).
	SegmentCost(c *FusionChain, s *Segment) Cost
	// RestCost prices every node outside the chains, layer by layer.
	RestCost(g *ir.Graph, r *Report, chains []FusionChain) Cost
	// CacheCost prices layer-by-layer execution with sram bytes of activation cache.
	CacheCost(r *Report, sram int64) Cost
}

// Fusion analyzes depth-first fusion of g's windowed-layer chains without a cost model.
func Fusion(g *ir.Graph, opts FusionOptions) (*FusionReport, error) {
	return FusionWithCost(g, opts, nil)
}

// FusionWithCost is Fusion with cycles and energy from coster (nil: traffic only).
func FusionWithCost(g *ir.Graph, opts FusionOptions, coster SegmentCoster) (*FusionReport, error) {
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
		if coster == nil {
			errs = append(errs, fmt.Errorf("objective %q needs hardware", opts.Objective))
		}
	default:
		errs = append(errs, fmt.Errorf("objective %q: want traffic, cycles or energy", opts.Objective))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("memory: fusion: %w", err)
	}
	r, err := Analyze(g, Options{Bits: opts.Bits, Batch: opts.Batch})
	if err != nil {
		return nil, err
	}
	opts.Bits, opts.Batch = r.Bits, r.Batch
	fr := &FusionReport{Model: g.Name, Bits: r.Bits, Batch: r.Batch, SRAMBytes: opts.SRAMBytes,
		Chains: findChains(r.lv), report: r, opts: opts, coster: coster}
	if coster != nil {
		fr.rest = coster.RestCost(g, r, fr.Chains)
	}
	fr.LayerByLayer = fr.uniform(1)
	for k := 1; k <= opts.MaxDepth; k++ {
		fr.Depths = append(fr.Depths, fr.uniform(k))
	}
	fr.Best = fr.best()
	fr.CacheBytes = r.Traffic(opts.SRAMBytes).Bytes() + r.WeightsBytes
	fr.FloorBytes = r.CompulsoryBytes + r.WeightsBytes
	if coster != nil {
		fr.CacheCost = coster.CacheCost(r, opts.SRAMBytes)
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
	l.WeightsBytes = nodeWeightsBytes(nd, lv.opts.Bits)
	return l
}

// lineRows returns the band plan of layers [first, first+depth) of c with band rows of the
// last output: the rows each intermediate map holds, and the rows each layer computes per
// band (see doc.go, "Depth-first fusion").
func lineRows(c *FusionChain, first, depth, band int) (hold []int, per []int) {
	per = make([]int, depth)
	hold = make([]int, depth-1)
	r := band
	for j := depth - 1; j >= 0; j-- {
		l := &c.Layers[first+j]
		r = min(r, l.OutShape.H)
		per[j] = r
		if j > 0 {
			// layer j holds (R_j − 1)·s_j + K_j rows of its input, the previous layer's output
			hold[j-1] = min((r-1)*l.Stride+l.K, l.In.H)
			r *= l.Stride
		}
	}
	return hold, per
}

// segment evaluates layers [first, first+depth) of chain ci with band rows, under budget.
func (fr *FusionReport) segment(ci, first, depth, band int, budget int64, subsets []int64) Segment {
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
		s.Fits = true
		return s
	}
	hold, _ := lineRows(c, first, depth, band)
	s.LineRows = hold
	s.BandRows = min(band, last.OutShape.H)
	s.Bands = (last.OutShape.H + s.BandRows - 1) / s.BandRows
	bytesPerRow := func(l *FusionLayer) int64 {
		return bytesOf(int64(l.OutShape.W)*int64(l.OutShape.C), fr.Batch, fr.Bits)
	}
	held := make([]int64, depth+1) // held[j]: bytes of intermediate map j (1..depth-1)
	for j := range depth - 1 {
		l, next := &c.Layers[first+j], &c.Layers[first+j+1]
		held[j+1] = int64(hold[j]) * bytesPerRow(l)
		s.LineBufferBytes += held[j+1]
		s.SavedBytes += l.OutBytes + next.InBytes
		if s.Bands > 1 {
			s.HaloBytes += int64(max(next.K-next.Stride, 0)) * bytesPerRow(l)
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
	s.Fits = s.LineBufferBytes <= budget
	if s.Fits && s.Bands > 1 {
		// One band reads each weight once anyway; with more, keep what fits.
		s.ResidentWeightsBytes = bestSubset(subsets, budget-s.LineBufferBytes)
	}
	s.WeightTrafficBytes = s.WeightsBytes + int64(s.Bands-1)*(s.WeightsBytes-s.ResidentWeightsBytes)
	s.SRAMBytes = s.LineBufferBytes + s.ResidentWeightsBytes
	return s
}

// subsetSums returns the sorted sums of every subset of the segment's layer weights (up to
// 2^12 of them); beyond 12 layers it returns nil and bestSubset is greedy.
func subsetSums(ws []int64) []int64 {
	if len(ws) > 12 {
		return nil
	}
	sums := []int64{0}
	for _, w := range ws {
		for _, s := range sums { // evaluated once: only the sums from before this weight
			sums = append(sums, s+w)
		}
	}
	slices.Sort(sums)
	return slices.Compact(sums)
}

// bestSubset returns the largest subset sum not above capacity.
func bestSubset(sums []int64, capacity int64) int64 {
	if capacity <= 0 {
		return 0
	}
	i := sort.Search(len(sums), func(i int) bool { return sums[i] > capacity })
	if i == 0 {
		return 0
	}
	return sums[i-1]
}

// bestSegment returns the segment [first, first+depth) with the band height that minimizes
// the objective among those whose line buffers fit; if none fits, the one-row band marked
// as not fitting.
func (fr *FusionReport) bestSegment(ci, first, depth int, budget int64) Segment {
	c := &fr.Chains[ci]
	if depth == 1 {
		s := fr.segment(ci, first, 1, 0, budget, nil)
		fr.price(&s)
		return s
	}
	var ws []int64
	for j := range depth {
		ws = append(ws, c.Layers[first+j].WeightsBytes)
	}
	sums := subsetSums(ws)
	if sums == nil {
		sums = greedySums(ws)
	}
	h := c.Layers[first+depth-1].OutShape.H
	var best Segment
	found := false
	for band := 1; ; band *= 2 {
		b := min(band, h)
		s := fr.segment(ci, first, depth, b, budget, sums)
		if s.Fits {
			fr.price(&s)
			if !found || fr.better(&s, &best) {
				best, found = s, true
			}
		}
		if b == h {
			break
		}
	}
	if !found {
		best = fr.segment(ci, first, depth, 1, budget, sums)
		fr.price(&best)
	}
	return best
}

// greedySums stands in for subsetSums on deep segments: the prefix sums of the weights in
// decreasing size.
func greedySums(ws []int64) []int64 {
	s := slices.Clone(ws)
	slices.Sort(s)
	slices.Reverse(s)
	sums := []int64{0}
	for _, w := range s {
		sums = append(sums, sums[len(sums)-1]+w)
	}
	return sums
}

func (fr *FusionReport) price(s *Segment) {
	if fr.coster != nil {
		s.Cost = fr.coster.SegmentCost(&fr.Chains[s.Chain], s)
	}
}

// objective returns the quantity the best plan minimizes for a segment.
func (fr *FusionReport) objective(s *Segment) float64 {
	switch fr.opts.Objective {
	case "cycles":
		return float64(s.Cost.Cycles)
	case "energy":
		return s.Cost.EnergyJ
	}
	return float64(s.DRAMBytes())
}

// better orders segments by objective, then traffic, then SRAM used.
func (fr *FusionReport) better(a, b *Segment) bool {
	if oa, ob := fr.objective(a), fr.objective(b); oa != ob {
		return oa < ob
	}
	if a.DRAMBytes() != b.DRAMBytes() {
		return a.DRAMBytes() < b.DRAMBytes()
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
				e := entry{fr.objective(&s) + dp[i+k].obj, s.DRAMBytes() + dp[i+k].bytes, s, true}
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
	p.DRAMBytes = r.StreamBytes + r.WeightsBytes
	p.Fits = true
	for i := range p.Segments {
		s := &p.Segments[i]
		p.DRAMBytes += s.WeightTrafficBytes - s.WeightsBytes - s.SavedBytes
		p.SRAMBytes = max(p.SRAMBytes, s.SRAMBytes)
		p.Fits = p.Fits && s.Fits
		if s.Depth > 1 {
			one := fr.segment(s.Chain, s.First, s.Depth, 1, 0, nil)
			p.MinSRAMBytes = max(p.MinSRAMBytes, one.LineBufferBytes)
		}
		p.Cost.Cycles += s.Cost.Cycles
		p.Cost.EnergyJ += s.Cost.EnergyJ
	}
	p.Cost.Cycles += fr.rest.Cycles
	p.Cost.EnergyJ += fr.rest.EnergyJ
}
