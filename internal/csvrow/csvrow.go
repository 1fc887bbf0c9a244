// Package csvrow writes typed rows as CSV from one column table, so that a row type's
// header and its records come from the same list and cannot drift apart. The packages that
// own a documented CSV output (sim's per-layer rows, memory's rows) declare their columns
// with it.
package csvrow

import (
	"encoding/csv"
	"io"
	"strconv"
)

// Column is one CSV column of a row type R: its header name and the cell of a row.
type Column[R any] struct {
	Name string
	Cell func(*R) string
}

// Col returns the column called name whose cell is cell; R is inferred from cell, so a
// table reads []csvrow.Column[Row]{csvrow.Col("model", func(r *Row) string { … }), …}.
func Col[R any](name string, cell func(*R) string) Column[R] {
	return Column[R]{Name: name, Cell: cell}
}

// Header returns the column names in order.
func Header[R any](cols []Column[R]) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.Name
	}
	return h
}

// Record returns r's cells in column order.
func Record[R any](cols []Column[R], r *R) []string {
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.Cell(r)
	}
	return rec
}

// Write writes the header and one record per row to w, and reports the first write error.
func Write[R any](w io.Writer, cols []Column[R], rows []R) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header(cols)); err != nil {
		return err
	}
	for i := range rows {
		if err := cw.Write(Record(cols, &rows[i])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Int formats v in decimal.
func Int[T ~int | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// Float formats v in the shortest form that reads back exactly, in format fmt ('f' for
// plain decimals, 'g' for exponents where shorter).
func Float(v float64, fmt byte) string { return strconv.FormatFloat(v, fmt, -1, 64) }

// OptInt formats an optional integer: "" for nil.
func OptInt(v *int64) string {
	if v == nil {
		return ""
	}
	return Int(*v)
}

// OptFloat formats an optional float as Float does: "" for nil.
func OptFloat(v *float64, fmt byte) string {
	if v == nil {
		return ""
	}
	return Float(*v, fmt)
}
