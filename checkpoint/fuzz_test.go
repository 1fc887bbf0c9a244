package checkpoint

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref/tinygolden"
)

// checkLoaded is the property both fuzz targets check: LoadBytes either fails with a
// one-line *FormatError naming the input, or returns a well-formed state dict that
// survives a write-read round trip in the same format unchanged.
func checkLoaded(t *testing.T, name string, data []byte, write func(*bytes.Buffer, *StateDict) error) {
	if msg := loadProperty(name, data, write); msg != "" {
		t.Fatal(msg)
	}
}

// loadProperty returns "" if the property holds for data and a description otherwise.
func loadProperty(name string, data []byte, write func(*bytes.Buffer, *StateDict) error) string {
	sd, err := LoadBytes(name, data)
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), name+": ") || strings.Contains(err.Error(), "\n") {
			return fmt.Sprintf("bad error %T: %q", err, err)
		}
		return ""
	}
	if err := sd.check(); err != nil {
		return fmt.Sprintf("LoadBytes returned an invalid state dict: %v", err)
	}
	var buf bytes.Buffer
	if err := write(&buf, sd); err != nil {
		return fmt.Sprintf("write: %v", err)
	}
	again, err := LoadBytes(name, buf.Bytes())
	if err != nil {
		return fmt.Sprintf("re-load: %v", err)
	}
	if d := equalSD(sd, again); d != "" {
		return fmt.Sprintf("round trip changed the state dict: %s", d)
	}
	return ""
}

func addSeed(f *testing.F, write func(*bytes.Buffer, *StateDict) error, sd *StateDict) {
	var buf bytes.Buffer
	if err := write(&buf, sd); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
}

func writePTHBuf(b *bytes.Buffer, sd *StateDict) error { return writePTH(b, "f", sd, pthOptions{}) }

func writeSafetensorsBuf(b *bytes.Buffer, sd *StateDict) error { return writeSafetensors(b, sd) }

// goldenSeed returns the golden deploy checkpoint cut down for fuzzing: torch's own data.pkl
// (with its _metadata BUILD) and version record, but only the first two storages, so that
// the seed is 5 KB instead of 110 KB (large seeds make the fuzzer's minimization crawl).
func goldenSeed() []byte {
	b, err := os.ReadFile(tinygolden.Path(tinygolden.DeployPTH))
	if err != nil {
		return nil
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	z := &torchZip{w: &buf}
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/data/") && !strings.HasSuffix(f.Name, "/0") && !strings.HasSuffix(f.Name, "/1") {
			continue
		}
		rc, _ := f.Open()
		rec, _ := io.ReadAll(rc)
		rc.Close()
		z.recordBytes(f.Name, rec)
	}
	z.close()
	return buf.Bytes()
}

// FuzzLoadPTH fuzzes the PyTorch reader (zip, pickle, storages, legacy stream) and, through
// content dispatch, the others. Seeds: the golden deploy checkpoint cut down to its pickle
// and two storages, PyTorch-written single-tensor files of several dtypes and protocols, and
// small files from SavePTH. Run it with -fuzzminimizetime=10s or so: minimizing a
// multi-kilobyte input otherwise stalls the fuzzer for a minute.
func FuzzLoadPTH(f *testing.F) {
	if b := goldenSeed(); b != nil {
		f.Add(b)
	}
	for _, name := range []string{"tensor_float32_proto2_zip.pt", "tensor_float32_proto4_zip.pt",
		"tensor_int64_proto5.pt", "tensor_float16_proto2_zip.pt", "tensor_float32_proto1.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "gopickle", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	addSeed(f, writePTHBuf, edgeSD())
	addSeed(f, writePTHBuf, manySD(3))
	addSeed(f, func(b *bytes.Buffer, sd *StateDict) error {
		return writePTH(b, "f", sd, pthOptions{wrapper: "state_dict", plainDict: true})
	}, manySD(2))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoaded(t, "f.pth", data, writePTHBuf)
	})
}

// FuzzSafetensors fuzzes the safetensors reader. Seeds: files from SaveSafetensors.
func FuzzSafetensors(f *testing.F) {
	addSeed(f, writeSafetensorsBuf, edgeSD())
	addSeed(f, writeSafetensorsBuf, manySD(2))
	addSeed(f, writeSafetensorsBuf, New())
	f.Add(safetensorsBytes(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, []byte{1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoaded(t, "f.safetensors", data, writeSafetensorsBuf)
	})
}
