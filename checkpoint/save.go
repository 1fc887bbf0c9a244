package checkpoint

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

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

// save checks sd and writes it to path through write, atomically (see writeFileAtomic).
// Nothing is created for an invalid state dict. Errors name the file.
func save(path string, sd *StateDict, write func(w io.Writer) error) error {
	if err := sd.check(); err != nil {
		return named(path, errorf("%v", err))
	}
	return named(path, writeFileAtomic(path, write))
}

// loadNPZ reads an .npz archive; keys are the array names.
func loadNPZ(r io.ReaderAt, size int64) (*StateDict, error) {
	names, m, err := npy.ReadNPZFrom(r, size)
	if err != nil {
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

// writeFileAtomic writes a file through fill into a temporary file next to path and renames
// it over path only when everything succeeded, so that a failed save never leaves a
// truncated checkpoint behind.
func writeFileAtomic(path string, fill func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	tmp := f.Name()
	w := bufio.NewWriterSize(f, 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
