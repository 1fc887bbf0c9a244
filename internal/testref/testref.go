// Package testref locates the reference data the tests check against: the golden tensors
// from the official RepVGG code and the SCALE-Sim v2 runs, kept in the repository under
// testdata (see testdata/README.md for where each file came from).
//
// Paths are absolute, computed from this file's location, so a test finds the data from
// any package directory and a clone needs nothing beside it.
package testref

import (
	"path/filepath"
	"runtime"
)

// root is the repository's root directory (this file is internal/testref/testref.go).
var root = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testref: cannot locate the source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

// Repo returns a path in the repository, joined from its root.
func Repo(elem ...string) string {
	return filepath.Join(append([]string{root}, elem...)...)
}

// Dir returns the reference data directory, testdata, joined with elem.
func Dir(elem ...string) string {
	return filepath.Join(append([]string{root, "testdata"}, elem...)...)
}

// Golden returns a path in the golden tensors of the official RepVGG code,
// testdata/golden (block_s1_g1, block_s1_g2, block_s2_8to16, tiny_repvgg and
// manifest.json), joined with elem.
func Golden(elem ...string) string {
	return Dir(append([]string{"golden"}, elem...)...)
}

// TinyRepVGG returns a path in the tiny_repvgg golden case (train and deploy
// state_dicts, input, per-block activations, logits and .pth checkpoints), joined with elem.
func TinyRepVGG(elem ...string) string {
	return Golden(append([]string{"tiny_repvgg"}, elem...)...)
}

// ScaleSim returns a path in the SCALE-Sim v2 reference runs, testdata/scalesim
// (configs, topologies and runs), joined with elem.
func ScaleSim(elem ...string) string {
	return Dir(append([]string{"scalesim"}, elem...)...)
}
