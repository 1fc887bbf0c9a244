package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Format is the encoding of a results file.
type Format int

// The result formats: CSV with a header line, or JSON Lines (one object per point, keys
// in column order).
const (
	CSV Format = iota
	JSONL
)

// FormatOf picks the format from a file name: .jsonl, .ndjson and .json give JSONL,
// anything else CSV.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return JSONL
	}
	return CSV
}

// The columns every results file has, around the swept fields (see docs/studies/README.md).
var (
	leadColumns  = []string{"point", "model", "form", "input", "batch"}
	tailColumns  = []string{"status", "macs", "cycles", "stall_cycles", "latency_s", "throughput_ips", "utilization", "energy_per_image_j", "dram_bytes_per_image", "pes", "sram_bytes", "area_mm2"}
	stringColumn = map[string]bool{"model": true, "form": true, "input": true, "status": true, "dataflow": true}
)

// paretoColumn names the last column: "pareto:" and the objectives joined by "+", with
// "/all" when the front is over every point rather than per workload.
func paretoColumn(objs []Objective, front string) string {
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.Name
	}
	c := "pareto:" + strings.Join(names, "+")
	if front == "all" {
		c += "/all"
	}
	return c
}

// parseParetoColumn reads the objectives and front back from the last column's name.
func parseParetoColumn(c string) ([]Objective, string, error) {
	rest, ok := strings.CutPrefix(c, "pareto:")
	if !ok {
		return nil, "", fmt.Errorf("last column %q is not pareto:…", c)
	}
	front := "workload"
	if r, all := strings.CutSuffix(rest, "/all"); all {
		rest, front = r, "all"
	}
	var objs []Objective
	for _, n := range strings.Split(rest, "+") {
		o, err := LookupObjective(n)
		if err != nil {
			return nil, "", err
		}
		objs = append(objs, o)
	}
	return objs, front, nil
}

// Table is a results file in memory: the header and the rows as cell strings (numbers in
// their shortest exact form, "" for none; the pareto cell "true", "false" or "" while a
// run is in progress).
type Table struct {
	Columns []string
	Rows    [][]string
}

// col returns the index of a column, or -1.
func (t *Table) col(name string) int { return slices.Index(t.Columns, name) }

// tableWriter streams rows to a results file in one of the formats.
type tableWriter struct {
	w      *bufio.Writer
	csv    *csv.Writer
	format Format
	cols   []string
}

func newTableWriter(w io.Writer, f Format, cols []string) *tableWriter {
	tw := &tableWriter{w: bufio.NewWriterSize(w, 64<<10), format: f, cols: cols}
	if f == CSV {
		tw.csv = csv.NewWriter(tw.w)
	}
	return tw
}

func (tw *tableWriter) header() error {
	if tw.format == CSV {
		return tw.csv.Write(tw.cols)
	}
	return nil
}

func (tw *tableWriter) row(cells []string) error {
	if tw.format == CSV {
		return tw.csv.Write(cells)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(tw.cols[i])
		b.Write(k)
		b.WriteByte(':')
		switch {
		case c == "":
			b.WriteString("null")
		case stringColumn[tw.cols[i]]:
			v, _ := json.Marshal(c)
			b.Write(v)
		default:
			b.WriteString(c)
		}
	}
	b.WriteString("}\n")
	_, err := tw.w.Write(b.Bytes())
	return err
}

func (tw *tableWriter) flush() error {
	if tw.csv != nil {
		tw.csv.Flush()
		if err := tw.csv.Error(); err != nil {
			return err
		}
	}
	return tw.w.Flush()
}

// ReadTable reads a results file (the format from its name). A last line cut short by a
// kill is dropped, and its byte offset returned as complete: the length of the whole
// lines, where a resumed run appends.
func ReadTable(path string) (*Table, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	complete := int64(bytes.LastIndexByte(data, '\n') + 1)
	data = data[:complete]
	t, err := parseTable(path, data, FormatOf(path))
	return t, complete, err
}

func parseTable(path string, data []byte, f Format) (*Table, error) {
	t := &Table{}
	if f == CSV {
		r := csv.NewReader(bytes.NewReader(data))
		recs, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("%s: empty results file", path)
		}
		t.Columns, t.Rows = recs[0], recs[1:]
		return t, checkColumns(path, t)
	}
	for ln, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		cols, cells, err := decodeObject(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, ln+1, err)
		}
		if t.Columns == nil {
			t.Columns = cols
		} else if !slices.Equal(cols, t.Columns) {
			return nil, fmt.Errorf("%s:%d: keys differ from the first line's", path, ln+1)
		}
		t.Rows = append(t.Rows, cells)
	}
	if t.Columns == nil {
		return nil, fmt.Errorf("%s: empty results file", path)
	}
	return t, checkColumns(path, t)
}

// decodeObject reads one JSON object's keys in order and its values as cells.
func decodeObject(line []byte) (cols, cells []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("want a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		cols = append(cols, k)
		switch v := v.(type) {
		case nil:
			cells = append(cells, "")
		case string:
			cells = append(cells, v)
		case json.Number:
			cells = append(cells, v.String())
		case bool:
			cells = append(cells, strconv.FormatBool(v))
		default:
			return nil, nil, fmt.Errorf("key %s: not a number, string or boolean", k)
		}
	}
	return cols, cells, nil
}

func checkColumns(path string, t *Table) error {
	if len(t.Columns) < len(leadColumns)+len(tailColumns)+1 || !slices.Equal(t.Columns[:len(leadColumns)], leadColumns) {
		return fmt.Errorf("%s: not a vggsim sweep results file (columns %s…)", path, strings.Join(t.Columns[:min(len(t.Columns), 5)], ","))
	}
	if _, _, err := parseParetoColumn(t.Columns[len(t.Columns)-1]); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("%s: row %d has %d cells, want %d", path, i+1, len(r), len(t.Columns))
		}
		if _, err := strconv.Atoi(r[0]); err != nil {
			return fmt.Errorf("%s: row %d: bad point %q", path, i+1, r[0])
		}
	}
	return nil
}

// markPareto sorts the rows by point and fills the pareto column over the objectives
// named in it: rows with status ok, per workload (model, form, input, batch) or over all.
func (t *Table) markPareto() error {
	objs, front, err := parseParetoColumn(t.Columns[len(t.Columns)-1])
	if err != nil {
		return err
	}
	slices.SortStableFunc(t.Rows, func(a, b []string) int {
		x, _ := strconv.Atoi(a[0])
		y, _ := strconv.Atoi(b[0])
		return x - y
	})
	for i := 1; i < len(t.Rows); i++ {
		if t.Rows[i][0] == t.Rows[i-1][0] {
			return fmt.Errorf("point %s appears twice", t.Rows[i][0])
		}
	}
	oc := make([]int, len(objs))
	for i, o := range objs {
		if oc[i] = t.col(o.Column); oc[i] < 0 {
			return fmt.Errorf("no column %s for objective %s", o.Column, o.Name)
		}
	}
	status := t.col("status")
	groups := map[string][]int{}
	var keys []string
	for i, r := range t.Rows {
		r[len(r)-1] = "false"
		if r[status] != "ok" {
			continue
		}
		k := ""
		if front != "all" {
			k = strings.Join(r[1:5], "\x00")
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range keys {
		rows := groups[k]
		vecs := make([][]float64, len(rows))
		for j, ri := range rows {
			vecs[j] = make([]float64, len(objs))
			for o := range objs {
				v, err := strconv.ParseFloat(t.Rows[ri][oc[o]], 64)
				if err != nil {
					return fmt.Errorf("point %s: %s %q is not a number", t.Rows[ri][0], objs[o].Column, t.Rows[ri][oc[o]])
				}
				if objs[o].Maximize {
					v = -v
				}
				vecs[j][o] = v
			}
		}
		for j, on := range ParetoFront(vecs) {
			t.Rows[rows[j]][len(t.Columns)-1] = strconv.FormatBool(on)
		}
	}
	return nil
}

// Write writes the whole table in format f.
func (t *Table) Write(w io.Writer, f Format) error {
	tw := newTableWriter(w, f, t.Columns)
	if err := tw.header(); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := tw.row(r); err != nil {
			return err
		}
	}
	return tw.flush()
}

// WriteFile writes the table to path atomically (a temporary file in the same directory,
// renamed over path), in the format path's name implies.
func (t *Table) WriteFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := t.Write(tmp, FormatOf(path)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Merge joins the results files of a study's shards into one table: the same columns in
// every part, no point twice, rows in point order, the Pareto front recomputed over all of
// them (over objs when given, else the objectives named in the parts' pareto column).
// Merging every shard of a study gives the unsharded run's file byte for byte.
func Merge(paths []string, objs []Objective) (*Table, error) {
	if len(paths) == 0 {
		return nil, errors.New("merge: no input files")
	}
	var out *Table
	for _, p := range paths {
		t, _, err := ReadTable(p)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = &Table{Columns: t.Columns}
		} else if !slices.Equal(t.Columns, out.Columns) {
			return nil, fmt.Errorf("%s: columns differ from %s's; shards of one study have the same columns", p, paths[0])
		}
		out.Rows = append(out.Rows, t.Rows...)
	}
	if len(objs) > 0 {
		_, front, _ := parseParetoColumn(out.Columns[len(out.Columns)-1])
		out.Columns = slices.Clone(out.Columns)
		out.Columns[len(out.Columns)-1] = paretoColumn(objs, front)
	}
	if err := out.markPareto(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return out, nil
}
