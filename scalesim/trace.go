package scalesim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/sim"
)

// Trace file names SCALE-Sim writes into <run>/layer<i>/.
const (
	IfmapSRAMTraceFile  = "IFMAP_SRAM_TRACE.csv"
	FilterSRAMTraceFile = "FILTER_SRAM_TRACE.csv"
	OfmapSRAMTraceFile  = "OFMAP_SRAM_TRACE.csv"
	IfmapDRAMTraceFile  = "IFMAP_DRAM_TRACE.csv"
	FilterDRAMTraceFile = "FILTER_DRAM_TRACE.csv"
	OfmapDRAMTraceFile  = "OFMAP_DRAM_TRACE.csv"
)

// MaxTraceRows bounds the demand rows WriteTraces accepts per layer: traces are for small runs
// (one row per cycle, one column per array port), and a large layer would write gigabytes.
const MaxTraceRows = 4 << 20

// RunDir returns the directory SCALE-Sim writes a run's reports into: DIR/<run_name>.
func RunDir(dir string, cfg *sim.ScaleSimConfig) string { return filepath.Join(dir, cfg.RunName) }

// WriteTraces writes, for every layer i, the traces SCALE-Sim writes with its trace flag into
// runDir/layer<i>/. The three SRAM traces: one line per demand row, the cycle the row was
// served and then one address per array port (-1 when idle), comma-separated integers as
// NumPy's savetxt(fmt='%i') prints them. The DRAM traces (sim.TraceScaleSimDRAM): one line
// per DRAM line transferred, its cycle and its addresses, as SCALE-Sim's float matrices print
// with savetxt(fmt='%s') ("-3277.0,10000000.0,…").
// A layer with more than MaxTraceRows rows is refused before anything is written. The files
// appear together or not at all (internal/atomicfile): after an error every trace file of
// an earlier run is untouched and no layer directory this call created is left behind.
func WriteTraces(runDir string, cfg *sim.ScaleSimConfig, layers []sim.ScaleSimLayer) error {
	return WriteRun(runDir, cfg, layers, nil)
}

// WriteRun writes a run's three reports (as WriteReports, when reports is not nil) and its
// per-layer SRAM traces (as WriteTraces) in one step: every file appears, or after an error
// none has changed.
func WriteRun(runDir string, cfg *sim.ScaleSimConfig, layers []sim.ScaleSimLayer, reports []sim.ScaleSimReport) (err error) {
	for i, l := range layers {
		if err := l.Validate(); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, l.Name, err)
		}
		m, n, k := l.GEMM()
		g := sim.MapGEMM(cfg.Dataflow, cfg.ArrayHeight, cfg.ArrayWidth, m, n, k)
		if rows := g.Folds() * g.ScaleSimFoldCycles(); rows > MaxTraceRows {
			return fmt.Errorf("layer %d (%s): %d demand rows, more than the %d a trace may hold; traces are for small runs", i, l.Name, rows, MaxTraceRows)
		}
	}
	// Directories first; the ones this call creates go again if the files do not appear.
	var made []string
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i]) // only if empty
			}
		}
	}()
	mkdir := func(dir string) error {
		if _, err := os.Stat(dir); err == nil {
			return nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		made = append(made, dir)
		return nil
	}
	if err := mkdir(runDir); err != nil {
		return err
	}
	type traceFile struct {
		layer int
		op    sim.ScaleSimOperand
		dram  bool
	}
	ops := [...]string{sim.IfmapTrace: IfmapSRAMTraceFile, sim.FilterTrace: FilterSRAMTraceFile, sim.OfmapTrace: OfmapSRAMTraceFile}
	dramOps := [...]string{sim.IfmapTrace: IfmapDRAMTraceFile, sim.FilterTrace: FilterDRAMTraceFile, sim.OfmapTrace: OfmapDRAMTraceFile}
	var names []string
	what := map[string]traceFile{}
	report := map[string]int{}
	if reports != nil {
		for i, w := range reportWriters {
			name := filepath.Join(runDir, w.file)
			names = append(names, name)
			report[name] = i
		}
	}
	for i := range layers {
		dir := filepath.Join(runDir, "layer"+strconv.Itoa(i))
		if err := mkdir(dir); err != nil {
			return err
		}
		for op, file := range ops {
			name := filepath.Join(dir, file)
			names = append(names, name)
			what[name] = traceFile{i, sim.ScaleSimOperand(op), false}
		}
		for op, file := range dramOps {
			name := filepath.Join(dir, file)
			names = append(names, name)
			what[name] = traceFile{i, sim.ScaleSimOperand(op), true}
		}
	}
	return atomicfile.WriteFiles(names, func(name string, w io.Writer) error {
		if i, ok := report[name]; ok {
			return reportWriters[i].write(w, reports)
		}
		tf := what[name]
		if tf.dram {
			return writeDRAMTrace(w, cfg, tf.layer, layers[tf.layer], tf.op)
		}
		return writeTrace(w, cfg, tf.layer, layers[tf.layer], tf.op)
	})
}

// writeDRAMTrace writes one operand's DRAM trace of layer id to w, every value as NumPy
// prints a float64 with fmt='%s' (Python's repr: "12.0", "-1.0").
func writeDRAMTrace(w io.Writer, cfg *sim.ScaleSimConfig, id int, l sim.ScaleSimLayer, want sim.ScaleSimOperand) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	_, err := sim.TraceScaleSimDRAM(*cfg, id, l, func(op sim.ScaleSimOperand, cycle int64, addrs []int64) error {
		if op != want {
			return nil
		}
		line = appendPyFloat(line[:0], cycle)
		for _, a := range addrs {
			line = append(line, ',')
			line = appendPyFloat(line, a)
		}
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("layer %d (%s): %w", id, l.Name, err)
	}
	return bw.Flush()
}

// appendPyFloat appends integer v as Python prints float(v): "12.0" below 1e16, FormatFloat's
// scientific form beyond.
func appendPyFloat(b []byte, v int64) []byte {
	if v > -1e16 && v < 1e16 {
		return append(strconv.AppendInt(b, v, 10), '.', '0')
	}
	return append(b, FormatFloat(float64(v))...)
}

// writeTrace writes one operand's SRAM trace of layer id to w (the trace is generated once
// per operand file).
func writeTrace(w io.Writer, cfg *sim.ScaleSimConfig, id int, l sim.ScaleSimLayer, want sim.ScaleSimOperand) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	_, err := sim.TraceScaleSimLayer(*cfg, id, l, func(op sim.ScaleSimOperand, cycle int64, addrs []int64) error {
		if op != want {
			return nil
		}
		line = strconv.AppendInt(line[:0], cycle, 10)
		for _, a := range addrs {
			line = append(line, ',')
			line = strconv.AppendInt(line, a, 10)
		}
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("layer %d (%s): %w", id, l.Name, err)
	}
	return bw.Flush()
}
