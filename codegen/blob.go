package codegen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vggsim/vggsim/internal/atomicfile"
	"io"
	"math"
	"os"
)

// BlobMagic starts every weights blob.
const BlobMagic = "VGGSIMWB"

// BlobHeaderBytes is the size of the blob header; the payload forward reads follows it.
const BlobHeaderBytes = 64

// The blob header, little-endian:
//
//	0  magic "VGGSIMWB"
//	8  u32 format version (1)
//	12 u32 header bytes (64)
//	16 u64 payload bytes (= vggsim_<sym>_weights_bytes())
//	24 u64 signature    (= vggsim_<sym>_weights_signature())
//	32 zero padding to 64
//
// The payload holds Plan.Weights in order, float32 little-endian, each array starting at
// its Offset (a multiple of 64), zero-filled between arrays.

// WriteWeights writes the weights blob of m: the header, then every step's arrays as its
// kernel arranges them.
func (m *Module) WriteWeights(w io.Writer) error {
	p := m.Plan
	bw := bufio.NewWriterSize(w, 1<<20)
	var hdr [BlobHeaderBytes]byte
	copy(hdr[:], BlobMagic)
	binary.LittleEndian.PutUint32(hdr[8:], 1)
	binary.LittleEndian.PutUint32(hdr[12:], BlobHeaderBytes)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(p.WeightsBytes))
	binary.LittleEndian.PutUint64(hdr[24:], m.Signature)
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	var pos int64
	buf := make([]byte, 0, 1<<16)
	for si, st := range p.Steps {
		if len(st.Weights) == 0 {
			continue
		}
		arrays, err := st.Kernel.Weights()
		if err != nil {
			return fmt.Errorf("codegen: %w", err)
		}
		if len(arrays) != len(st.Weights) {
			return fmt.Errorf("codegen: step %d (%s): kernel returned %d arrays, planned %d", si, st.Label, len(arrays), len(st.Weights))
		}
		for j, a := range arrays {
			e := p.Weights[st.Weights[j]]
			if len(a) != e.Floats {
				return fmt.Errorf("codegen: %s: %d floats, planned %d", e.Name, len(a), e.Floats)
			}
			for ; pos < e.Offset; pos++ {
				if err := bw.WriteByte(0); err != nil {
					return err
				}
			}
			for len(a) > 0 {
				chunk := a[:min(len(a), cap(buf)/4)]
				buf = buf[:0]
				for _, v := range chunk {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
				if _, err := bw.Write(buf); err != nil {
					return err
				}
				a = a[len(chunk):]
			}
			pos += int64(e.Floats) * 4
		}
	}
	for ; pos < p.WeightsBytes; pos++ {
		bw.WriteByte(0)
	}
	return bw.Flush()
}

// WriteWeightsFile writes the weights blob to path.
func (m *Module) WriteWeightsFile(path string) error {
	// Through a temporary file renamed into place: a failed write leaves any old blob whole.
	return atomicfile.Write(path, m.WriteWeights)
}

// BlobInfo is a weights blob's header.
type BlobInfo struct {
	PayloadBytes uint64
	Signature    uint64
}

// ReadBlobHeader reads and checks the header of the blob at path, and that the file
// holds exactly the payload the header announces.
func ReadBlobHeader(path string) (BlobInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return BlobInfo{}, err
	}
	defer f.Close()
	var hdr [BlobHeaderBytes]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[:8]) != BlobMagic {
		return BlobInfo{}, fmt.Errorf("%s: not a vggsim weights blob", path)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != 1 {
		return BlobInfo{}, fmt.Errorf("%s: blob format version %d, want 1", path, v)
	}
	info := BlobInfo{PayloadBytes: binary.LittleEndian.Uint64(hdr[16:]), Signature: binary.LittleEndian.Uint64(hdr[24:])}
	st, err := f.Stat()
	if err != nil {
		return BlobInfo{}, err
	}
	if uint64(st.Size()-BlobHeaderBytes) != info.PayloadBytes {
		return BlobInfo{}, fmt.Errorf("%s: %d bytes of weights, the header says %d", path, st.Size()-BlobHeaderBytes, info.PayloadBytes)
	}
	return info, nil
}

// CheckBlob reports whether the blob at path fits m: its size and signature.
func (m *Module) CheckBlob(path string) error {
	info, err := ReadBlobHeader(path)
	if err != nil {
		return err
	}
	if info.PayloadBytes != uint64(m.Plan.WeightsBytes) {
		return fmt.Errorf("%s: %d bytes of weights, %s wants %d", path, info.PayloadBytes, m.Plan.Graph.Name, m.Plan.WeightsBytes)
	}
	if info.Signature != m.Signature {
		return errors.New(path + ": weights blob was written for another model (signature differs)")
	}
	return nil
}
