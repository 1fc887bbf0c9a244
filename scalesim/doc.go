// Package scalesim reads and writes SCALE-Sim v2's file formats, so vggsim can stand in for
// SCALE-Sim: the run configuration (.cfg, INI with Python configparser rules), the topology
// CSV in its convolution and GEMM layouts, and the three reports COMPUTE_REPORT.csv,
// DETAILED_ACCESS_REPORT.csv and BANDWIDTH_REPORT.csv, byte for byte as SCALE-Sim v2.0.2
// writes them (numbers formatted as Python's repr, cycles as NumPy floats).
//
// The simulation itself is sim.SimulateScaleSim; this package only does files. Readers
// report every problem at once, each as file:line:col.
package scalesim
