package scalesim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vggsim/vggsim/sim"
)

// SRAM trace file names SCALE-Sim writes into <run>/layer<i>/.
const (
	IfmapSRAMTraceFile  = "IFMAP_SRAM_TRACE.csv"
	FilterSRAMTraceFile = "FILTER_SRAM_TRACE.csv"
	OfmapSRAMTraceFile  = "OFMAP_SRAM_TRACE.csv"
)

// MaxTraceRows bounds the demand rows WriteTraces accepts per layer: traces are for small runs
// (one row per cycle, one column per array port), and a large layer would write gigabytes.
const MaxTraceRows = 4 << 20

// RunDir returns the directory SCALE-Sim writes a run's reports into: DIR/<run_name>.
func RunDir(dir string, cfg *sim.ScaleSimConfig) string { return filepath.Join(dir, cfg.RunName) }

// WriteTraces writes, for every layer i, the three SRAM traces SCALE-Sim writes with its trace
// flag into runDir/layer<i>/: one line per demand row, the cycle the row was served and then
// one address per array port (-1 when idle), comma-separated integers as NumPy's
// savetxt(fmt='%i') prints them. DRAM traces are not written. A layer with more than
// MaxTraceRows rows is refused before anything is written.
func WriteTraces(runDir string, cfg *sim.ScaleSimConfig, layers []sim.ScaleSimLayer) error {
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
	for i, l := range layers {
		if err := writeLayerTraces(filepath.Join(runDir, "layer"+strconv.Itoa(i)), cfg, i, l); err != nil {
			return err
		}
	}
	return nil
}

func writeLayerTraces(dir string, cfg *sim.ScaleSimConfig, id int, l sim.ScaleSimLayer) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := [...]string{sim.IfmapTrace: IfmapSRAMTraceFile, sim.FilterTrace: FilterSRAMTraceFile, sim.OfmapTrace: OfmapSRAMTraceFile}
	var files [3]*os.File
	var ws [3]*bufio.Writer
	defer func() {
		for i, f := range files {
			if f == nil {
				continue
			}
			err = errors.Join(err, ws[i].Flush(), f.Close())
		}
	}()
	for i, name := range names {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		files[i], ws[i] = f, bufio.NewWriterSize(f, 1<<16)
	}
	var line []byte
	_, err = sim.TraceScaleSimLayer(*cfg, id, l, func(op sim.ScaleSimOperand, cycle int64, addrs []int64) error {
		line = strconv.AppendInt(line[:0], cycle, 10)
		for _, a := range addrs {
			line = append(line, ',')
			line = strconv.AppendInt(line, a, 10)
		}
		line = append(line, '\n')
		_, err := ws[op].Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}
