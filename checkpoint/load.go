package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// Format is a checkpoint file format.
type Format uint8

// The formats Load reads and Save writes.
const (
	PyTorch     Format = iota + 1 // torch.save: a zip of data.pkl and raw storages (or the pre-1.6 stream)
	Safetensors                   // Hugging Face safetensors
	NPZ                           // a NumPy .npz archive, one .npy array per key
)

// String returns the format's name: "pytorch", "safetensors" or "npz".
func (f Format) String() string {
	switch f {
	case PyTorch:
		return "pytorch"
	case Safetensors:
		return "safetensors"
	case NPZ:
		return "npz"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Info describes how a checkpoint was read.
type Info struct {
	Format   Format
	Legacy   bool              // a PyTorch file in the pre-1.6 (non-zip) serialization
	Wrapper  string            // "state_dict", "model" (or "model.state_dict", …) if the state dict was found under that key
	Prefix   string            // "module." if that prefix (DataParallel) was stripped from the keys
	Metadata map[string]string // the safetensors __metadata__, if any
	// Converted maps each key whose stored element type was not float32 or int64 to that
	// type's name ("float16", "bfloat16", "float64", "int32", …); float64 loses precision.
	// It is filled for PyTorch and safetensors files, not for .npz.
	Converted map[string]string
}

// noteConversion records in info.Converted that key was stored as e, unless e is one of
// the element types a Tensor holds (float32, int64).
func (info *Info) noteConversion(key string, e npy.Elem) {
	if e == npy.F32 || e == npy.I64 {
		return
	}
	if info.Converted == nil {
		info.Converted = map[string]string{}
	}
	info.Converted[key] = e.String()
}

// stripPrefix is the prefix DataParallel and DistributedDataParallel put on every key.
const stripPrefix = "module."

// Load reads the checkpoint at path into a StateDict. The format is recognized from the
// content, not the extension:
//
//   - a zip holding data.pkl is a PyTorch checkpoint (torch.save, PyTorch ≥ 1.6);
//   - a stream starting with PyTorch's magic number is the pre-1.6 PyTorch format;
//   - an 8-byte header length followed by a JSON object is safetensors;
//   - a zip of .npy files is an .npz archive.
//
// A PyTorch checkpoint may wrap its state dict as {"state_dict": …} or {"model": …}; the
// wrapper is removed. A "module." prefix is stripped from every key that has one. Floating
// point tensors are converted to float32 and integer ones (num_batches_tracked) to int64.
//
// Every error names the file and the problem on one line. Problems with the content are
// *FormatError values; a missing or unreadable file gives the underlying fs error (so
// errors.Is(err, fs.ErrNotExist) works). Load never panics on malformed input.
func Load(path string) (*StateDict, error) {
	sd, _, err := LoadWithInfo(path)
	return sd, err
}

// LoadWithInfo is Load that also reports how the checkpoint was read.
func LoadWithInfo(path string) (*StateDict, *Info, error) {
	lim, err := LimitsFromEnv()
	if err != nil {
		return nil, nil, err
	}
	return LoadWithLimits(path, lim)
}

// LoadWithLimits is LoadWithInfo under explicit limits instead of the environment's.
func LoadWithLimits(path string, lim Limits) (*StateDict, *Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, named(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, named(path, err)
	}
	if st.IsDir() {
		return nil, nil, &FormatError{Path: path, Msg: "is a directory, not a checkpoint file"}
	}
	return load(path, f, st.Size(), lim)
}

// LoadBytes is Load for a checkpoint held in memory; name is used in error messages and,
// for its extension, to pick the most helpful message when the content is unrecognizable.
func LoadBytes(name string, data []byte) (*StateDict, error) {
	lim, err := LimitsFromEnv()
	if err != nil {
		return nil, err
	}
	sd, _, err := load(name, bytes.NewReader(data), int64(len(data)), lim)
	return sd, err
}

// load recognizes the format of the size bytes behind r and reads them. It converts any
// panic in the decoders (gopickle is not hardened against hostile input) into an error.
func load(name string, r io.ReaderAt, size int64, lim Limits) (sd *StateDict, info *Info, err error) {
	defer func() {
		if p := recover(); p != nil {
			sd, info = nil, nil
			err = &FormatError{Path: name, Msg: fmt.Sprintf("malformed checkpoint (%v)", p)}
		}
	}()
	info = &Info{}
	lim = lim.resolve(size)
	c := &loadCtx{lim: lim, bud: &byteBudget{max: lim.MaxBytes}}
	sd, err = dispatch(name, r, size, info, c)
	if err != nil {
		return nil, nil, named(name, err)
	}
	if err := stripModulePrefix(sd, info); err != nil {
		return nil, nil, named(name, err)
	}
	return sd, info, nil
}

var (
	zipMagic      = []byte("PK\x03\x04")
	emptyZipMagic = []byte("PK\x05\x06")
	npyMagic      = []byte("\x93NUMPY")
)

// loadCtx carries one load's limits and the bytes it has decoded so far.
type loadCtx struct {
	lim Limits // resolved: no zero fields
	bud *byteBudget
}

func dispatch(name string, r io.ReaderAt, size int64, info *Info, c *loadCtx) (*StateDict, error) {
	if size == 0 {
		return nil, errorf("empty file, not a checkpoint")
	}
	head := make([]byte, min(size, 16))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(name))
	if bytes.HasPrefix(head, zipMagic) || bytes.HasPrefix(head, emptyZipMagic) {
		return loadZip(r, size, info, c)
	}
	if head[0] == opProto || head[0] == 'L' { // a pickle: protocol ≥ 2, or 0/1 starting with LONG
		sd, err := loadLegacy(r, size, info, c)
		if err != errNotLegacy {
			return sd, err
		}
		if head[0] == opProto {
			return nil, errorf("a bare pickle stream, not a torch.save checkpoint (not a zip archive and no PyTorch magic number)")
		}
	}
	switch {
	case looksLikeSafetensors(head, size):
		info.Format = Safetensors
		return loadSafetensors(r, size, info, c)
	case bytes.HasPrefix(head, npyMagic):
		return nil, errorf("a single .npy array, not a checkpoint (save a state dict as .npz, .safetensors or .pth)")
	case ext == ".safetensors":
		info.Format = Safetensors
		return loadSafetensors(r, size, info, c)
	case ext == ".pth" || ext == ".pt" || ext == ".bin" || ext == ".npz" || ext == ".ckpt":
		return nil, errorf("not a zip archive (torch.save and numpy.savez write zip files); the file is damaged or not a checkpoint")
	}
	return nil, errorf("unrecognized checkpoint format: not a zip archive (PyTorch .pth, .npz) and not safetensors")
}

// looksLikeSafetensors reports whether head starts like a safetensors file: a plausible
// little-endian header length followed by '{'.
func looksLikeSafetensors(head []byte, size int64) bool {
	if len(head) < 9 || head[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= uint64(size-8)
}

// loadZip opens a zip archive and decides between PyTorch and npz by its entries.
func loadZip(r io.ReaderAt, size int64, info *Info, c *loadCtx) (*StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, errorf("%s", npy.ZipError(err))
	}
	var pkl, constants *zip.File
	npys := 0
	for _, f := range zr.File {
		dir, base := splitRecord(f.Name)
		switch {
		case base == "data.pkl" && !strings.Contains(dir, "/"):
			if pkl != nil {
				return nil, errorf("zip archive holds two data.pkl records (%q, %q)", pkl.Name, f.Name)
			}
			pkl = f
		case base == "constants.pkl" && !strings.Contains(dir, "/"):
			constants = f
		case strings.HasSuffix(f.Name, ".npy"):
			npys++
		}
	}
	switch {
	case constants != nil:
		return nil, errorf("a TorchScript archive (torch.jit.save), not a state dict; save model.state_dict() with torch.save")
	case pkl != nil:
		info.Format = PyTorch
		return loadTorchZip(zr, pkl, size, info, c)
	case npys > 0 || len(zr.File) == 0: // numpy.savez of nothing writes an empty zip
		info.Format = NPZ
		return loadNPZ(r, size, c)
	}
	return nil, errorf("zip archive holds neither a PyTorch data.pkl nor .npy arrays")
}

// splitRecord splits a zip name "stem/data.pkl" into "stem" and "data.pkl"; a top-level
// name has dir "".
func splitRecord(name string) (dir, base string) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// stripModulePrefix removes "module." (repeatedly) from every key that starts with it. It
// also rejects keys that are not UTF-8, which Python could not have written.
func stripModulePrefix(sd *StateDict, info *Info) error {
	found := false
	for _, k := range sd.Keys {
		if !utf8.ValidString(k) {
			return errorf("key %q is not valid UTF-8", k)
		}
		if strings.HasPrefix(k, stripPrefix) {
			found = true
		}
	}
	if !found {
		return nil
	}
	out := &StateDict{Keys: make([]string, 0, len(sd.Keys)), Tensors: make(map[string]*tensor.Tensor, len(sd.Keys))}
	from := make(map[string]string, len(sd.Keys))
	for _, k := range sd.Keys {
		nk := trimModulePrefix(k)
		if prev, dup := from[nk]; dup {
			return errorf("keys %q and %q are both %q after stripping %q", prev, k, nk, stripPrefix)
		}
		from[nk] = k
		out.Set(nk, sd.Tensors[k])
	}
	*sd = *out
	info.Prefix = stripPrefix
	if info.Converted != nil {
		conv := make(map[string]string, len(info.Converted))
		for k, v := range info.Converted {
			conv[trimModulePrefix(k)] = v
		}
		info.Converted = conv
	}
	return nil
}

// trimModulePrefix removes every leading "module." from k: DataParallel inside
// DataParallel repeats it.
func trimModulePrefix(k string) string {
	for strings.HasPrefix(k, stripPrefix) {
		k = k[len(stripPrefix):]
	}
	return k
}
