package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
)

// Winograd F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016) with the interpolation points 0, ±1, ±2, ∞: a 4×4 output tile Y of one channel pair
// is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 6×6 input patch d and the 3×3 filter g. Summed over
// input channels, the 36 element-wise products become 36 independent GEMMs
// M[ξ] = V[ξ] · U[ξ] (tiles × C times C × K), 36·C·K multiplies per tile where direct
// convolution does 144·C·K.
var (
	winoBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	winoAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// WinoTile is the output tile of F(4×4, 3×3); WinoAlpha = WinoTile + 2 is the input patch.
const (
	WinoTile  = 4
	WinoAlpha = 6
	winoXi    = WinoAlpha * WinoAlpha // element-wise positions (36)
)

// Thread-local buffer budgets of a Winograd work item (stack, in the body function): the
// transformed input tiles of the item's channels and the GEMM results before the output
// transform. Both are kept in L2 (1 MiB) together with a slice of the weights.
const (
	winoVBudget = 512 << 10
	winoMBudget = 256 << 10
	// winoMinItems is the fewest work items a layer is split into when it can be, so two
	// threads share it; more, smaller items repeat the input transform (channel chunks) or
	// the weight stream (tile groups), which the cost model weighs (Winograd.Cycles).
	winoMinItems = 2
	// winoMaxGroupCounts bounds the tile-group counts choose tries per register tile.
	winoMaxGroupCounts = 48
)

// CheckWinograd returns why the Winograd family cannot run c, or nil: it takes 3×3,
// stride-1, pad-1 convs, dense or grouped with whole blocks of 16 input and output channels
// per group.
func CheckWinograd(c Conv) error {
	if err := CheckDirect(c); err != nil {
		return err
	}
	g := c.groups()
	switch {
	case c.KH != 3 || c.KW != 3 || c.Stride != 1 || c.Pad != 1:
		return fmt.Errorf("kern: winograd F(4x4,3x3) wants a 3x3 stride-1 pad-1 conv, not %s", c)
	case g > 1 && (c.C/g)%Lanes != 0:
		return fmt.Errorf("kern: grouped conv with %d input channels per group (winograd wants a multiple of %d)", c.C/g, Lanes)
	}
	return nil
}

// Winograd is an F(4×4, 3×3) kernel for one conv shape: work items are T output tiles ×
// KC output-channel blocks; the GEMMs run on a register tile of RT tiles × RK blocks of 16
// output channels.
type Winograd struct {
	Conv Conv
	// RK output-channel blocks × RT tiles are the GEMM's register tile (RK·RT zmm
	// accumulators); T tiles (a multiple of RT) and KC blocks (a multiple of RK, within
	// one group) make one work item.
	RK, RT, T, KC int
}

// NewWinograd returns the Winograd kernel of c with the blocking chooseWino picks.
func NewWinograd(c Conv) (*Winograd, error) {
	if err := CheckWinograd(c); err != nil {
		return nil, err
	}
	w := &Winograd{Conv: c}
	w.choose()
	return w, nil
}

func (w *Winograd) tilesHW() (th, tw int) {
	ho, wo := w.Conv.Out()
	return (ho + WinoTile - 1) / WinoTile, (wo + WinoTile - 1) / WinoTile
}

func (w *Winograd) tiles() int { th, tw := w.tilesHW(); return th * tw }

// cgB returns the input-channel blocks one group reads; kgB the output blocks of a group.
func (w *Winograd) cgB() int {
	c := w.Conv
	if c.groups() == 1 {
		return (c.C + Lanes - 1) / Lanes
	}
	return c.C / c.groups() / Lanes
}

func (w *Winograd) kgB() int {
	c := w.Conv
	if c.groups() == 1 {
		return c.blocks()
	}
	return c.K / c.groups() / Lanes
}

// choose picks the blocking with the least estimated time at 1 thread plus 2 threads
// (Cycles): every register tile of RK blocks (dividing a group's output blocks, ≤ 4) × RT
// tiles (RK·RT ≤ MaxAccumulators), every tile group T (a multiple of RT) whose V and M
// fit winoVBudget and winoMBudget, and every channel chunk KC (a multiple of RK dividing
// the group's blocks), keeping at least winoMinItems work items where the layer has
// them. Ties go to more items, then the larger register tile.
func (w *Winograd) choose() {
	nt := w.tiles()
	kgB := w.kgB()
	cgp := w.cgB() * Lanes
	type cand struct {
		b     Winograd
		cost  float64
		items int
	}
	var best *cand
	better := func(c *cand) bool {
		switch {
		case best == nil:
			return true
		case (c.items >= winoMinItems) != (best.items >= winoMinItems):
			return c.items >= winoMinItems
		case c.cost < best.cost*(1-1e-9):
			return true
		case c.cost > best.cost*(1+1e-9):
			return false
		case c.items != best.items:
			return c.items > best.items
		}
		return c.b.RK*c.b.RT > best.b.RK*best.b.RT
	}
	for rk := 1; rk <= 4; rk++ {
		if kgB%rk != 0 {
			continue
		}
		for rt := 1; rk*rt <= MaxAccumulators && rk*rt+rk+1 <= Registers; rt++ {
			// Tile groups: T for 1, 2, … groups (T falls as groups grow), the first
			// winoMaxGroupCounts distinct ones within the V budget (or T = RT).
			prevT, tried := 0, 0
			for groups := 1; groups <= nt && tried < winoMaxGroupCounts; groups++ {
				t := ((nt+groups-1)/groups + rt - 1) / rt * rt
				if t == prevT || (t > rt && winoXi*cgp*t*4 > winoVBudget) {
					continue
				}
				prevT = t
				tried++
				for kc := rk; kc <= kgB; kc += rk {
					if kgB%kc != 0 || (kc > rk && winoXi*kc*Lanes*t*4 > winoMBudget) {
						continue
					}
					c := &cand{b: Winograd{Conv: w.Conv, RK: rk, RT: rt, T: t, KC: kc}}
					c.cost, c.items = c.b.Cycles(1)+c.b.Cycles(2), c.b.Items()
					if better(c) {
						best = c
					}
				}
			}
		}
	}
	w.RK, w.RT, w.T, w.KC = best.b.RK, best.b.RT, best.b.T, best.b.KC
}

// Cycles is the cost model's time of w on threads cores, in core cycles: the slower of
// the work items' computation (rounds of items over the threads; an item transforms its
// T tiles of its group's input blocks, runs the 36 GEMMs on its register tiles, transforms
// and stores T tiles of KC output blocks, and reads its weights from L3 when another tile
// group read them first) and the transformed weights read from memory once per forward
// (again per tile group when they exceed winoL3Bytes), combined by overlap.
func (w *Winograd) Cycles(threads int) float64 {
	cgB := w.cgB()
	tilesPadded := float64((w.T + w.RT - 1) / w.RT * w.RT)
	steps := winoXi * tilesPadded / float64(w.RT) * float64(cgB*Lanes) * float64(w.KC/w.RK)
	rk, rt := float64(w.RK), float64(w.RT)
	perStep := max(rk*rt/2, (rk+rt)/loadsPerCycle, fmaLatency) // one input channel of a register tile
	regTiles := steps / float64(cgB*Lanes)
	gemm := steps*perStep/winoGemmEff + regTiles*(2*rk*rt+winoRegTileCycles)
	in := float64(w.T*cgB) * w.inCycles()
	out := float64(w.T*w.KC) * winoOutCycles
	// Weights: the first tile group reads them from memory (the layer's term below); every
	// further group reads them again from L3, and a register tile of tiles after the first
	// reads one ξ's slice again from L2 when it does not stay in L1.
	itemBytes := float64(winoXi * cgB * Lanes * w.KC * Lanes * 4)
	groups := float64((w.tiles() + w.T - 1) / w.T)
	feed := itemBytes * (groups - 1) / groups / streamBytes
	if slice := cgB * Lanes * w.RK * Lanes * 4; slice > winoL1Slice {
		feed += itemBytes * (tilesPadded/rt - 1) / l2BytesPerCycle
	}
	items := w.Items()
	rounds := float64((items + threads - 1) / threads)
	compute := rounds * (gemm + in + out + feed)
	bytes := float64(w.PackedWeights() * 4)
	if bytes > winoL3Bytes {
		bytes *= groups // L3 does not keep them for the next tile group
	}
	return overlap(compute, bytes/dramBytesPerCycle)
}

// inCycles is the input transform's cost of one tile and input block, averaged over the
// layer's tiles: border tiles (a patch reaching into the zero padding) load through
// clamped addresses and selects and cost winoInBorderCycles, the others winoInCycles.
func (w *Winograd) inCycles() float64 {
	c := w.Conv
	th, tw := w.tilesHW()
	inside := func(n, size int) int { // tiles whose patch [4i−1, 4i+5) lies within [0, size)
		k := 0
		for i := 0; i < n; i++ {
			if y0 := i*WinoTile - 1; y0 >= 0 && y0+WinoAlpha <= size {
				k++
			}
		}
		return k
	}
	in := float64(inside(th, c.H) * inside(tw, c.W))
	all := float64(th * tw)
	return (in*winoInCycles + (all-in)*winoInBorderCycles) / all
}

// Validate returns why w's blocking is inconsistent with its shape, or nil.
func (w *Winograd) Validate() error {
	if err := CheckWinograd(w.Conv); err != nil {
		return err
	}
	kgB := w.kgB()
	switch {
	case w.RK < 1 || w.RT < 1 || w.T < 1 || w.KC < 1:
		return fmt.Errorf("kern: winograd blocking %+v: every size must be positive", *w)
	case kgB%w.KC != 0 || w.KC%w.RK != 0 || w.T%w.RT != 0:
		return fmt.Errorf("kern: winograd blocking RK=%d RT=%d T=%d KC=%d: want RK | KC | %d blocks per group and RT | T", w.RK, w.RT, w.T, w.KC, kgB)
	}
	return nil
}

// Name returns the LLVM function name, unique per shape and blocking.
func (w *Winograd) Name() string {
	return fmt.Sprintf("wino4x3_%s_r%dx%d_i%dx%d", w.Conv, w.RK, w.RT, w.KC, w.T)
}

// Items returns the work items of one image: tile groups × output-channel chunks.
func (w *Winograd) Items() int {
	return (w.tiles() + w.T - 1) / w.T * (w.Conv.blocks() / w.KC)
}

// PackedWeights returns the float count of the transformed weight array
// [K/16/KC][36][KC/RK][Cg'][RK][16] (Cg' the group's input channels rounded up to 16):
// chunk-major, so a work item streams one contiguous part of it.
func (w *Winograd) PackedWeights() int {
	return winoXi * w.Conv.blocks() * Lanes * w.cgB() * Lanes
}

// Pack transforms PyTorch-ordered weights w [K][C/G][3][3] into U = G g Gᵀ (in float64,
// stored float32) in the kernel's order [K/16/KC][36][KC/RK][Cg'][RK][16], and pads the bias b [K]
// (nil: zeros) to whole blocks. Padding channels get zeros. It is done once, at build time.
func (w *Winograd) Pack(wt, b []float32) (pw, pb []float32, err error) {
	c := w.Conv
	cg := c.C / c.groups()
	if len(wt) != c.K*cg*9 {
		return nil, nil, fmt.Errorf("kern: %s: %d weights, want %d", c, len(wt), c.K*cg*9)
	}
	if b != nil && len(b) != c.K {
		return nil, nil, fmt.Errorf("kern: %s: %d biases, want %d", c, len(b), c.K)
	}
	cgp := w.cgB() * Lanes
	kt := w.KC / w.RK // register tiles of output blocks per chunk
	pw = make([]float32, w.PackedWeights())
	for k := 0; k < c.K; k++ {
		kb, l := k/Lanes, k%Lanes
		chunk, t, rk := kb/w.KC, kb%w.KC/w.RK, kb%w.RK
		for ci := 0; ci < cg; ci++ {
			var g [3][3]float64
			for i := range 3 {
				for j := range 3 {
					g[i][j] = float64(wt[((k*cg+ci)*3+i)*3+j])
				}
			}
			u := winoFilter(g)
			for xi := 0; xi < winoXi; xi++ {
				pw[(((((chunk*winoXi+xi)*kt+t)*cgp+ci)*w.RK+rk)*Lanes)+l] = float32(u[xi/WinoAlpha][xi%WinoAlpha])
			}
		}
	}
	pb = make([]float32, c.blocks()*Lanes)
	copy(pb, b)
	return pw, pb, nil
}

// winoFilter returns G g Gᵀ in float64.
func winoFilter(g [3][3]float64) (u [WinoAlpha][WinoAlpha]float64) {
	var t [WinoAlpha][3]float64 // G g
	for i := range WinoAlpha {
		for j := range 3 {
			for k := range 3 {
				t[i][j] += winoG[i][k] * g[k][j]
			}
		}
	}
	for i := range WinoAlpha {
		for j := range WinoAlpha {
			for k := range 3 {
				u[i][j] += t[i][k] * winoG[j][k]
			}
		}
	}
	return u
}

// Define adds the kernel to m as NAME, NAME_range and NAME_body, with the same signatures
// and contract as Direct.Define.
func (w *Winograd) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	return defineParallel(m, w.Name(), w.Items(), linkage, w.defineBody(m))
}

// linear emits y_i = Σ_j a[i][j]·x_j over vectors (zero coefficients skipped, ±1 as adds).
func (g *fb) linear(a [][]float64, x []value.Value) []value.Value {
	y := make([]value.Value, len(a))
	for i, row := range a {
		var acc value.Value
		for j, coef := range row {
			if coef == 0 {
				continue
			}
			switch {
			case acc == nil && coef == 1:
				acc = x[j]
			case acc == nil:
				acc = g.b.NewFMul(splatConst(coef), x[j])
			case coef == 1:
				acc = g.b.NewFAdd(acc, x[j])
			case coef == -1:
				acc = g.b.NewFSub(acc, x[j])
			default:
				acc = g.fmaV(splatConst(coef), x[j], acc)
			}
		}
		if acc == nil {
			acc = g.zero16
		}
		y[i] = acc
	}
	return y
}

func rows(m [][6]float64) [][]float64 {
	r := make([][]float64, len(m))
	for i := range m {
		r[i] = m[i][:]
	}
	return r
}

// transform2D returns P d Pᵀ for an n×n array d of vectors (row-major) and the m×n matrix p.
func (g *fb) transform2D(p [][]float64, d []value.Value, n int) []value.Value {
	mm := len(p)
	// Columns first: t = P d (m×n), then rows: y = t Pᵀ (m×m).
	t := make([]value.Value, mm*n)
	for j := 0; j < n; j++ {
		col := make([]value.Value, n)
		for i := 0; i < n; i++ {
			col[i] = d[i*n+j]
		}
		for i, v := range g.linear(p, col) {
			t[i*n+j] = v
		}
	}
	y := make([]value.Value, mm*mm)
	for i := 0; i < mm; i++ {
		for j, v := range g.linear(p, t[i*n:(i+1)*n]) {
			y[i*mm+j] = v
		}
	}
	return y
}

func (g *fb) allocaV(n int) value.Value {
	a := g.entry.NewAlloca(types.NewArray(uint64(n), f32))
	a.Align = 64
	return g.entry.NewGetElementPtr(types.NewArray(uint64(n), f32), a, c64(0), c64(0))
}

func (w *Winograd) defineBody(m *ir.Module) *ir.Func {
	c := w.Conv
	_, tw := w.tilesHW()
	nt := w.tiles()
	cgB, cgp := w.cgB(), w.cgB()*Lanes
	kchunks := c.blocks() / w.KC
	slice := cgp * w.RK * Lanes // floats of the weights of one ξ and register tile of blocks
	prefetch := prefetchDecl(m)
	g, ps, lo, hi := newBody(m, w.Name(), allNoAlias, "out", "in", "w", "bias")
	out, in, wp, bias := ps[0], ps[1], ps[2], ps[3]
	// V[ξ][cb][t][16]: transformed input; M[ξ][kb][t][16]: GEMM results.
	V := g.allocaV(winoXi * cgB * w.T * Lanes)
	M := g.allocaV(winoXi * w.KC * w.T * Lanes)
	dArr := g.entry.NewAlloca(types.NewArray(winoXi, v16))
	dArr.Align = 64
	acc := make([]value.Value, w.RK*w.RT)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		a.Align = 64
		acc[i] = a
	}
	bt, at := rows(winoBT[:]), rows(winoAT[:])
	hw := c.H * c.W

	g.loop("item", lo, hi, func(item value.Value) {
		tg := g.b.NewSDiv(item, c64(kchunks))
		kc := g.b.NewSRem(item, c64(kchunks))
		kb0 := g.mul(kc, c64(w.KC))  // first output block of the item
		var cb0 value.Value = c64(0) // first input block of the item's group
		if c.groups() > 1 {
			cb0 = g.mul(g.b.NewSDiv(kb0, c64(w.kgB())), c64(cgB))
		}
		t0 := g.mul(tg, c64(w.T))

		// Input transform: V = Bᵀ d B for each tile of the item and each input block.
		g.loop("tin", c64(0), c64(w.T), func(t value.Value) {
			tile := g.add(t0, t)
			valid := g.b.NewICmp(enum.IPredSLT, tile, c64(nt))
			thenB, elseB, done := g.block("tin.valid"), g.block("tin.pad"), g.block("tin.done")
			g.b.NewCondBr(valid, thenB, elseB)
			g.b = elseB
			g.loop("vz", c64(0), c64(winoXi*cgB), func(j value.Value) {
				g.storeV(g.zero16, V, g.mul(g.add(g.mul(j, c64(w.T)), t), c64(Lanes)), 64)
			})
			g.b.NewBr(done)
			g.b = thenB
			ty := g.b.NewSDiv(tile, c64(tw))
			tx := g.b.NewSRem(tile, c64(tw))
			y0 := g.add(g.mul(ty, c64(WinoTile)), c64(-1))
			x0 := g.add(g.mul(tx, c64(WinoTile)), c64(-1))
			inside := g.b.NewAnd(
				g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, y0, c64(0)), g.b.NewICmp(enum.IPredSLE, y0, c64(c.H-WinoAlpha))),
				g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, x0, c64(0)), g.b.NewICmp(enum.IPredSLE, x0, c64(c.W-WinoAlpha))))
			g.loop("cb", c64(0), c64(cgB), func(cb value.Value) {
				src := g.gep(in, g.mul(g.add(cb0, cb), c64(hw*Lanes)))
				slot := func(i int) value.Value {
					return g.b.NewGetElementPtr(types.NewArray(winoXi, v16), dArr, c64(0), c64(i))
				}
				fast, slow, merged := g.block("d.fast"), g.block("d.border"), g.block("d.done")
				g.b.NewCondBr(inside, fast, slow)
				g.b = fast
				base := g.mul(g.add(g.mul(y0, c64(c.W)), x0), c64(Lanes))
				for i := 0; i < WinoAlpha; i++ {
					for j := 0; j < WinoAlpha; j++ {
						v := g.loadV(src, g.add(base, c64((i*c.W+j)*Lanes)), 64)
						g.b.NewStore(v, slot(i*WinoAlpha+j))
					}
				}
				g.b.NewBr(merged)
				g.b = slow
				for i := 0; i < WinoAlpha; i++ {
					yy := g.add(y0, c64(i))
					rowOK := g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, yy, c64(0)), g.b.NewICmp(enum.IPredSLT, yy, c64(c.H)))
					for j := 0; j < WinoAlpha; j++ {
						xx := g.add(x0, c64(j))
						ok := g.b.NewAnd(rowOK, g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, xx, c64(0)), g.b.NewICmp(enum.IPredSLT, xx, c64(c.W))))
						off := g.b.NewSelect(ok, g.mul(g.add(g.mul(yy, c64(c.W)), xx), c64(Lanes)), c64(0))
						v := g.loadV(src, off, 64)
						g.b.NewStore(g.b.NewSelect(ok, v, g.zero16), slot(i*WinoAlpha+j))
					}
				}
				g.b.NewBr(merged)
				g.b = merged
				d := make([]value.Value, winoXi)
				for i := range d {
					d[i] = g.b.NewLoad(v16, slot(i))
				}
				v := g.transform2D(bt, d, WinoAlpha)
				for xi, x := range v {
					off := g.mul(g.add(g.mul(g.add(c64(xi*cgB), cb), c64(w.T)), t), c64(Lanes))
					g.storeV(x, V, off, 64)
				}
			})
			g.b.NewBr(done)
			g.b = done
		})

		// 36 GEMMs: M[ξ][kb][t] = Σ_c V[ξ][c][t] · U[ξ][c][kb], register tile RT × RK. The
		// item's weights are one contiguous stream (chunk-major packing), read once from
		// memory: the first register tile of tiles prefetches the next slice's lines.
		wc := g.gep(wp, g.mul(kc, c64(winoXi*w.KC/w.RK*slice)))
		g.loop("xi", c64(0), c64(winoXi), func(xi value.Value) {
			g.loop("kt", c64(0), c64(w.KC/w.RK), func(kt value.Value) {
				ub := g.gep(wc, g.mul(g.add(g.mul(xi, c64(w.KC/w.RK)), kt), c64(slice)))
				vx := g.gep(V, g.mul(xi, c64(cgB*w.T*Lanes)))
				regTile := func(tt value.Value, pf bool) {
					for _, a := range acc {
						g.b.NewStore(g.zero16, a)
					}
					vt := g.gep(vx, g.mul(tt, c64(w.RT*Lanes)))
					g.loop("c", c64(0), c64(cgB), func(cb value.Value) {
						vals := make([]value.Value, len(acc))
						for i, a := range acc {
							vals[i] = g.b.NewLoad(v16, a)
						}
						vc := g.gep(vt, g.mul(cb, c64(w.T*Lanes)))
						uc := g.gep(ub, g.mul(cb, c64(Lanes*w.RK*Lanes)))
						if pf { // the next slice's lines at this cb: 16·RK of 64 bytes
							for i := 0; i < w.RK*Lanes; i++ {
								p := g.b.NewBitCast(g.gep(uc, c64(slice+i*Lanes)), i8p)
								g.b.NewCall(prefetch, p, constant.NewInt(types.I32, 0), constant.NewInt(types.I32, 3), constant.NewInt(types.I32, 1))
							}
						}
						for l := 0; l < Lanes; l++ {
							u := make([]value.Value, w.RK)
							for rk := range u {
								u[rk] = g.loadV(uc, c64((l*w.RK+rk)*Lanes), 64)
							}
							for r := 0; r < w.RT; r++ {
								x := g.splat(vc, c64(r*Lanes+l))
								for rk := 0; rk < w.RK; rk++ {
									vals[rk*w.RT+r] = g.fmaV(u[rk], x, vals[rk*w.RT+r])
								}
							}
						}
						for i, a := range acc {
							g.b.NewStore(vals[i], a)
						}
					})
					for rk := 0; rk < w.RK; rk++ {
						for r := 0; r < w.RT; r++ {
							kb := g.add(g.mul(kt, c64(w.RK)), c64(rk))
							off := g.mul(g.add(g.mul(g.add(g.mul(xi, c64(w.KC)), kb), c64(w.T)), g.add(g.mul(tt, c64(w.RT)), c64(r))), c64(Lanes))
							g.storeV(g.b.NewLoad(v16, acc[rk*w.RT+r]), M, off, 64)
						}
					}
				}
				regTile(c64(0), true)
				g.loop("tt", c64(1), c64(w.T/w.RT), func(tt value.Value) { regTile(tt, false) })
			})
		})

		// Output transform Y = Aᵀ M A, bias, ReLU or ReLU6, stored with partial tiles clipped.
		g.loop("tout", c64(0), c64(w.T), func(t value.Value) {
			tile := g.add(t0, t)
			g.when("tout", g.b.NewICmp(enum.IPredSLT, tile, c64(nt)), func() {
				ty := g.b.NewSDiv(tile, c64(tw))
				tx := g.b.NewSRem(tile, c64(tw))
				oy0 := g.mul(ty, c64(WinoTile))
				ox0 := g.mul(tx, c64(WinoTile))
				full := g.b.NewAnd(g.b.NewICmp(enum.IPredSLE, oy0, c64(c.H-WinoTile)), g.b.NewICmp(enum.IPredSLE, ox0, c64(c.W-WinoTile)))
				g.loop("kb", c64(0), c64(w.KC), func(kb value.Value) {
					mv := make([]value.Value, winoXi)
					for xi := range mv {
						off := g.mul(g.add(g.mul(g.add(c64(xi*w.KC), kb), c64(w.T)), t), c64(Lanes))
						mv[xi] = g.loadV(M, off, 64)
					}
					y := g.transform2D(at, mv, WinoAlpha)
					gk := g.add(kb0, kb)
					bv := g.loadV(bias, g.mul(gk, c64(Lanes)), 64)
					for i := range y {
						y[i] = g.activate(g.b.NewFAdd(y[i], bv), c)
					}
					ob := g.gep(out, g.mul(gk, c64(hw*Lanes)))
					base := g.mul(g.add(g.mul(oy0, c64(c.W)), ox0), c64(Lanes))
					fastB, slowB, doneB := g.block("y.full"), g.block("y.part"), g.block("y.done")
					g.b.NewCondBr(full, fastB, slowB)
					g.b = fastB
					for i := 0; i < WinoTile; i++ {
						for j := 0; j < WinoTile; j++ {
							g.storeV(y[i*WinoTile+j], ob, g.add(base, c64((i*c.W+j)*Lanes)), 64)
						}
					}
					g.b.NewBr(doneB)
					g.b = slowB
					for i := 0; i < WinoTile; i++ {
						for j := 0; j < WinoTile; j++ {
							ok := g.b.NewAnd(g.b.NewICmp(enum.IPredSLT, g.add(oy0, c64(i)), c64(c.H)), g.b.NewICmp(enum.IPredSLT, g.add(ox0, c64(j)), c64(c.W)))
							g.when("ys", ok, func() {
								g.storeV(y[i*WinoTile+j], ob, g.add(base, c64((i*c.W+j)*Lanes)), 64)
							})
						}
					}
					g.b.NewBr(doneB)
					g.b = doneB
				})
			})
		})
	})
	g.b.NewRet(nil)
	return g.f
}

var i8p = types.NewPointer(types.I8)

// prefetchDecl returns the llvm.prefetch declaration of m (typed-pointer form), adding it
// once.
func prefetchDecl(m *ir.Module) *ir.Func {
	const name = "llvm.prefetch.p0i8"
	for _, f := range m.Funcs {
		if f.Name() == name {
			return f
		}
	}
	i32 := types.I32
	return m.NewFunc(name, types.Void, ir.NewParam("p", i8p), ir.NewParam("rw", i32), ir.NewParam("locality", i32), ir.NewParam("type", i32))
}
