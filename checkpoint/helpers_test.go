package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
)

// zipContents is a zip archive as the tests inspect it.
type zipContents struct {
	names   []string
	records map[string][]byte
	headers map[string]zipHeader
}

type zipHeader struct {
	method, flags uint16
	dataOffset    int64
	fbPadding     bool // the local extra field is PyTorch's "FB" padding
}

func readZip(t *testing.T, data []byte) *zipContents {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	z := &zipContents{records: map[string][]byte{}, headers: map[string]zipHeader{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		// Find the local header: the signature whose name and extra lengths end at off.
		var extra []byte
		for pos := off - 30 - int64(len(f.Name)); pos >= 0 && pos > off-(1<<17); pos-- {
			lh := data[pos:]
			n, e := int64(binary.LittleEndian.Uint16(lh[26:])), int64(binary.LittleEndian.Uint16(lh[28:]))
			if bytes.HasPrefix(lh, []byte("PK\x03\x04")) && pos+30+n+e == off {
				extra = lh[30+n : 30+n+e]
				break
			}
		}
		z.names = append(z.names, f.Name)
		z.records[f.Name] = b
		z.headers[f.Name] = zipHeader{method: f.Method, flags: f.Flags, dataOffset: off,
			fbPadding: bytes.HasPrefix(extra, []byte("FB"))}
	}
	return z
}

// disasm lists the opcodes of a pickle, one per line, for the opcodes SavePTH writes.
func disasm(t *testing.T, p []byte) string {
	t.Helper()
	var out []string
	for i := 0; i < len(p); {
		op := p[i]
		i++
		u32 := func() uint32 { v := binary.LittleEndian.Uint32(p[i:]); i += 4; return v }
		switch op {
		case opProto:
			out = append(out, fmt.Sprintf("PROTO %d", p[i]))
			i++
		case opGlobal:
			nl := bytes.IndexByte(p[i:], '\n')
			mod := string(p[i : i+nl])
			i += nl + 1
			nl = bytes.IndexByte(p[i:], '\n')
			out = append(out, "GLOBAL "+mod+" "+string(p[i:i+nl]))
			i += nl + 1
		case opBinput, opBinget, opBinint1:
			name := map[byte]string{opBinput: "BINPUT", opBinget: "BINGET", opBinint1: "BININT1"}[op]
			out = append(out, fmt.Sprintf("%s %d", name, p[i]))
			i++
		case opLongBinput, opLongBinget, opBinint:
			name := map[byte]string{opLongBinput: "LONG_BINPUT", opLongBinget: "LONG_BINGET", opBinint: "BININT"}[op]
			out = append(out, fmt.Sprintf("%s %d", name, int32(u32())))
		case opBinint2:
			out = append(out, fmt.Sprintf("BININT2 %d", binary.LittleEndian.Uint16(p[i:])))
			i += 2
		case opBinunicode:
			n := int(u32())
			out = append(out, "BINUNICODE "+string(p[i:i+n]))
			i += n
		default:
			name, ok := map[byte]string{opMark: "MARK", opStop: "STOP", opEmptyTuple: "EMPTY_TUPLE",
				opReduce: "REDUCE", opTuple: "TUPLE", opTuple1: "TUPLE1", opTuple2: "TUPLE2",
				opTuple3: "TUPLE3", opBinpersid: "BINPERSID", opNewfalse: "NEWFALSE",
				opSetitems: "SETITEMS", opSetitem: "SETITEM", opEmptyDict: "EMPTY_DICT"}[op]
			if !ok {
				t.Fatalf("disasm: opcode 0x%02x at %d", op, i-1)
			}
			out = append(out, name)
		}
	}
	return strings.Join(out, "\n")
}
