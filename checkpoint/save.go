package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/internal/npy"
)

// Save writes sd to path in the format its extension names: .pth, .pt or .bin (PyTorch,
// see SavePTH), .safetensors (SaveSafetensors) or .npz (SaveNPZ). Errors name the file.
func Save(path string, sd *StateDict) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pth", ".pt", ".bin":
		return SavePTH(path, sd)
	case ".safetensors":
		return SaveSafetensors(path, sd)
	case ".npz":
		return SaveNPZ(path, sd)
	}
	return &FormatError{Path: path, Msg: "unknown checkpoint extension (want .pth, .pt, .safetensors or .npz)"}
}

// SaveNPZ writes sd to path as an .npz archive, as numpy.savez(path, **sd) does: one stored
// "<key>.npy" entry per key, in key order. Errors name the file.
func SaveNPZ(path string, sd *StateDict) error {
	return save(path, sd, func(w io.Writer) error { return npy.WriteNPZTo(w, sd.Keys, sd.Tensors) })
}

// save checks sd and writes it to path through write, atomically (see internal/atomicfile).
// Nothing is created for an invalid state dict. Errors name the file.
func save(path string, sd *StateDict, write func(w io.Writer) error) error {
	if err := sd.check(); err != nil {
		return named(path, errorf("%v", err))
	}
	return named(path, atomicfile.Write(path, write))
}

// loadNPZ reads an .npz archive; keys are the array names.
func loadNPZ(r io.ReaderAt, size int64, c *loadCtx) (*StateDict, error) {
	names, m, err := npy.ReadNPZFromLimit(r, size, c.bud.max-c.bud.used)
	if err != nil {
		var le *npy.LimitError
		if errors.As(err, &le) {
			return nil, c.bud.charge(c.bud.max+1, fmt.Sprintf("entry %q", le.Entry))
		}
		var fe *npy.FormatError
		if errors.As(err, &fe) {
			return nil, errorf("%s", fe.Msg)
		}
		return nil, err
	}
	sd := New()
	for _, n := range names {
		sd.Set(n, m[n])
	}
	return sd, nil
}
