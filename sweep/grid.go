package sweep

import (
	"fmt"
	"strings"

	"github.com/vggsim/vggsim/hw"
)

// Workload is one network run of a study: a model in one form at one input size and batch.
type Workload struct {
	Model ModelRef
	Form  string
	Input [2]int
	Batch int
}

// inputText formats the input size as 224 or 224x320.
func (w Workload) inputText() string {
	if w.Input[0] == w.Input[1] {
		return fmt.Sprint(w.Input[0])
	}
	return fmt.Sprintf("%dx%d", w.Input[0], w.Input[1])
}

// Workloads returns the study's workloads in grid order: models, then forms, inputs and
// batches.
func (s *Study) Workloads() []Workload {
	var ws []Workload
	for _, m := range s.Models {
		for _, f := range m.Forms {
			for _, in := range s.Inputs {
				for _, b := range s.Batches {
					ws = append(ws, Workload{m, f, in, b})
				}
			}
		}
	}
	return ws
}

// AxisFields returns the swept fields in column order (zipped fields in their order).
func (s *Study) AxisFields() []*Field {
	var fs []*Field
	for _, a := range s.Axes {
		fs = append(fs, a.Fields...)
	}
	return fs
}

// Point is one grid point: a workload and a value per swept field.
type Point struct {
	Index    int // position in the full grid, before constraints; the row's "point"
	Workload int // index into Study.Workloads
	Values   []Value
}

// Config returns the base hardware with the point's values set.
func (s *Study) Config(p Point) *hw.Config {
	c := s.Hardware.Clone()
	i := 0
	for _, a := range s.Axes {
		for _, f := range a.Fields {
			f.Set(c, p.Values[i])
			i++
		}
	}
	return c
}

// Points expands the grid: every workload × every combination of the axes' values (the
// first axis varies slowest, the last fastest; zipped fields move together), without the
// points that break a constraint. It also returns how many points the constraints dropped.
func (s *Study) Points() (pts []Point, dropped int) {
	ws := s.Workloads()
	fs := s.AxisFields()
	idx := make([]int, len(s.Axes))
	n := 0
	cfg := s.Hardware.Clone()
	for w := range ws {
		for i := range idx {
			idx[i] = 0
		}
		for {
			vals := make([]Value, 0, len(fs))
			for a, ax := range s.Axes {
				vals = append(vals, ax.Values[idx[a]]...)
			}
			*cfg = *s.Hardware
			for i, f := range fs {
				f.Set(cfg, vals[i])
			}
			if s.admits(cfg, ws[w].Batch) {
				pts = append(pts, Point{Index: n, Workload: w, Values: vals})
			} else {
				dropped++
			}
			n++
			// Odometer: the last axis turns fastest.
			a := len(idx) - 1
			for ; a >= 0; a-- {
				idx[a]++
				if idx[a] < len(s.Axes[a].Values) {
					break
				}
				idx[a] = 0
			}
			if a < 0 {
				break
			}
		}
	}
	return pts, dropped
}

// admits reports whether cfg satisfies every constraint.
func (s *Study) admits(cfg *hw.Config, batch int) bool {
	if len(s.constraints) == 0 {
		return true
	}
	env := pointEnv(cfg, batch, s.Area.Of(cfg))
	for _, c := range s.constraints {
		if c.root.eval(env) == 0 {
			return false
		}
	}
	return true
}

// Constraints returns the constraint expressions as written.
func (s *Study) Constraints() []string {
	out := make([]string, len(s.constraints))
	for i, c := range s.constraints {
		out[i] = c.text
	}
	return out
}

// Shard returns the points of shard i of n (0 ≤ i < n): every n-th point starting at the
// i-th, so that the shards' work is balanced across the grid.
func Shard(pts []Point, i, n int) []Point {
	if n <= 1 {
		return pts
	}
	var out []Point
	for k := i; k < len(pts); k += n {
		out = append(out, pts[k])
	}
	return out
}

// ParseShard reads "i/n" with 0 ≤ i < n.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		_, err1 := fmt.Sscan(a, &i)
		_, err2 := fmt.Sscan(b, &n)
		if err1 == nil && err2 == nil && n >= 1 && i >= 0 && i < n && n <= 1<<20 {
			return i, n, nil
		}
	}
	return 0, 0, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n, such as 3/16", s)
}
