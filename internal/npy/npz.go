package npy

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/tensor"
)

// maxDeflateRatio bounds how much a deflated zip entry may expand. Deflate cannot exceed
// about 1032:1, so an entry announcing more is lying about its size.
const maxDeflateRatio = 1100

// CheckZipEntry reports whether the sizes f announces are plausible for an archive of
// archiveSize bytes: a stored entry fits in the archive and a deflated one expands no more
// than deflate can. Callers check it before trusting f.UncompressedSize64 for allocation.
func CheckZipEntry(f *zip.File, archiveSize int64) error {
	if f.CompressedSize64 > uint64(archiveSize) {
		return fmt.Errorf("entry %q claims %d bytes, more than the whole archive", f.Name, f.CompressedSize64)
	}
	switch f.Method {
	case zip.Store:
		if f.UncompressedSize64 != f.CompressedSize64 {
			return fmt.Errorf("stored entry %q has inconsistent sizes", f.Name)
		}
	case zip.Deflate:
		if f.UncompressedSize64 > f.CompressedSize64*maxDeflateRatio+1024 {
			return fmt.Errorf("deflated entry %q claims an impossible size", f.Name)
		}
	default:
		return fmt.Errorf("entry %q uses unsupported compression method %d", f.Name, f.Method)
	}
	return nil
}

// ZipError describes an error from archive/zip for a user: a missing end-of-archive record
// means the file was cut short or is not a zip at all.
func ZipError(err error) string {
	if errors.Is(err, zip.ErrFormat) {
		return "truncated or corrupt zip archive (no valid central directory)"
	}
	if errors.Is(err, zip.ErrChecksum) {
		return "corrupt zip archive (checksum mismatch)"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated zip archive"
	}
	return "bad zip archive: " + err.Error()
}

// ReadNPZ reads every array of the .npz archive at path (stored or deflated, as
// numpy.savez and numpy.savez_compressed write). It returns the array names in archive
// order, without the ".npy" suffix, and the arrays by name. Errors name the file.
func ReadNPZ(path string) ([]string, map[string]*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, withPath(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, withPath(path, err)
	}
	if st.IsDir() {
		return nil, nil, &FormatError{Path: path, Msg: "is a directory, not a .npz file"}
	}
	names, m, err := ReadNPZFrom(f, st.Size())
	return names, m, withPath(path, err)
}

// ReadNPZFrom is ReadNPZ for an archive of size bytes read through r. Its errors are
// *FormatError values without a path (or I/O errors from r).
func ReadNPZFrom(r io.ReaderAt, size int64) ([]string, map[string]*tensor.Tensor, error) {
	return ReadNPZFromLimit(r, size, math.MaxInt64)
}

// A LimitError reports an archive whose entries together decompress to more than the
// limit a caller set.
type LimitError struct {
	Entry string // the entry that crossed the limit
	Limit int64  // the limit, in bytes
}

// Error describes the problem.
func (e *LimitError) Error() string {
	return fmt.Sprintf("entry %q takes the archive past %d decompressed bytes", e.Entry, e.Limit)
}

// ReadNPZFromLimit is ReadNPZFrom that stops with a *LimitError, before inflating anything,
// once the entries' announced sizes add up to more than limit bytes. Each entry is read
// only up to its announced size, so the limit bounds the memory the archive can take
// whatever its compression ratio.
func ReadNPZFromLimit(r io.ReaderAt, size, limit int64) ([]string, map[string]*tensor.Tensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, nil, formatErr("%s", ZipError(err))
	}
	var names []string
	m := map[string]*tensor.Tensor{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, nil, formatErr("entry %q is not a .npy array", f.Name)
		}
		if _, dup := m[name]; dup {
			return nil, nil, formatErr("duplicate entry %q", f.Name)
		}
		if f.UncompressedSize64 > uint64(limit) {
			return nil, nil, &LimitError{Entry: f.Name, Limit: limit}
		}
		limit -= int64(f.UncompressedSize64)
		t, err := readZipNPY(f, size)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				return nil, nil, formatErr("entry %q: %s", f.Name, fe.Msg)
			}
			return nil, nil, err
		}
		names = append(names, name)
		m[name] = t
	}
	return names, m, nil
}

func readZipNPY(f *zip.File, archiveSize int64) (*tensor.Tensor, error) {
	if err := CheckZipEntry(f, archiveSize); err != nil {
		return nil, formatErr("%v", err)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, formatErr("%s", ZipError(err))
	}
	defer rc.Close()
	t, err := readSized(bufio.NewReader(rc), int64(f.UncompressedSize64))
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			return nil, formatErr("%s", ZipError(err))
		}
		return nil, err
	}
	// Read to the end so that archive/zip verifies the checksum.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, formatErr("%s", ZipError(err))
	}
	return t, nil
}

// WriteNPZ writes the named tensors to a .npz archive at path, in the order of names, as
// numpy.savez does (stored entries "<name>.npy"). Errors name the file.
func WriteNPZ(path string, names []string, tensors map[string]*tensor.Tensor) error {
	if err := checkNPZ(names, tensors); err != nil {
		return withPath(path, err)
	}
	return withPath(path, atomicfile.Write(path, func(w io.Writer) error { return WriteNPZTo(w, names, tensors) }))
}

// WriteNPZTo is WriteNPZ writing the archive to w.
func WriteNPZTo(w io.Writer, names []string, tensors map[string]*tensor.Tensor) error {
	if err := checkNPZ(names, tensors); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, name := range names {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(ew, tensors[name]); err != nil {
			return err
		}
	}
	return zw.Close()
}

func checkNPZ(names []string, tensors map[string]*tensor.Tensor) error {
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			return formatErr("duplicate array name %q", name)
		}
		seen[name] = true
		t, ok := tensors[name]
		if !ok {
			return formatErr("array %q: no tensor given", name)
		}
		if err := Validate(t); err != nil {
			return formatErr("array %q: %v", name, err)
		}
	}
	return nil
}
