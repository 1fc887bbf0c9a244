package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Pickle opcodes, as named in CPython's Lib/pickle.py. Only those the writer emits or the
// scanner must special-case are named; scanPickle knows the argument layout of all of them.
const (
	opMark       = '('
	opStop       = '.'
	opBinint     = 'J'
	opBinint1    = 'K'
	opBinint2    = 'M'
	opBinpersid  = 'Q'
	opReduce     = 'R'
	opBinunicode = 'X'
	opAppends    = 'e'
	opBinget     = 'h'
	opLongBinget = 'j'
	opEmptyList  = ']'
	opBinput     = 'q'
	opLongBinput = 'r'
	opSetitem    = 's'
	opTuple      = 't'
	opSetitems   = 'u'
	opEmptyDict  = '}'
	opEmptyTuple = ')'
	opGlobal     = 'c'
	opBuild      = 'b'
	opProto      = 0x80
	opNewobj     = 0x81
	opTuple1     = 0x85
	opTuple2     = 0x86
	opTuple3     = 0x87
	opNewtrue    = 0x88
	opNewfalse   = 0x89
	opLong1      = 0x8a
	opLong4      = 0x8b
	opFrame      = 0x95
)

// Limits on pickles, far above what torch.save writes.
const (
	maxPickleMarks  = 1000     // deepest MARK nesting accepted; real checkpoints use < 10
	maxPickleLength = 64 << 20 // largest data.pkl accepted; 1000 tensors take ~150 KB
)

// argKind is the layout of an opcode's inline argument.
type argKind uint8

const (
	argInvalid argKind = iota // not an opcode
	argNone
	argFixed  // n fixed bytes (n in opArgLen)
	argLine   // one newline-terminated line
	argLine2  // two newline-terminated lines
	argCount1 // 1-byte length, then that many bytes
	argCount4 // 4-byte little-endian length (signed), then that many bytes
	argCount8 // 8-byte little-endian length, then that many bytes
	argFrame  // 8-byte frame length; the frame's opcodes follow inline
)

var opArg [256]argKind
var opArgLen [256]int

func init() {
	for _, op := range []byte("(.012NQRabdelostu})]\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98") {
		opArg[op] = argNone
	}
	for op, n := range map[byte]int{
		'K': 1, 'h': 1, 'q': 1, 0x80: 1, 0x82: 1,
		'M': 2, 0x83: 2,
		'J': 4, 'j': 4, 'r': 4, 0x84: 4,
		'G': 8,
	} {
		opArg[op], opArgLen[op] = argFixed, n
	}
	for _, op := range []byte("IFLSVPgp") {
		opArg[op] = argLine
	}
	opArg['c'], opArg['i'] = argLine2, argLine2
	for _, op := range []byte{'U', 'C', 0x8a, 0x8c} {
		opArg[op] = argCount1
	}
	for _, op := range []byte{'T', 'X', 'B', 0x8b} {
		opArg[op] = argCount4
	}
	for _, op := range []byte{0x8d, 0x8e, 0x96} {
		opArg[op] = argCount8
	}
	opArg[0x95] = argFrame
}

// pushes reports whether op pushes an object, new or another reference to one, onto the
// unpickler's stack without taking any off (MARK counts: it starts a new stack).
func pushes(op byte) bool {
	switch op {
	case 'p', 'q', 'r', 0x94, // PUT, BINPUT, LONG_BINPUT, MEMOIZE
		'0', '1', 's', 'u', 'a', 'e', 'b', 0x90, // POP, POP_MARK, SETITEM(S), APPEND(S), BUILD, ADDITEMS
		'.', 0x80, 0x95: // STOP, PROTO, FRAME
		return false
	}
	return true
}

// popsMark reports whether op consumes the topmost MARK.
func popsMark(op byte) bool {
	switch op {
	case 't', 'l', 'd', 'e', 'u', 'o', 'i', '1', 0x90, 0x91:
		return true
	}
	return false
}

// scanPickle walks the opcodes of the pickle at the start of data without executing them
// and returns its length (up to and including STOP). It rejects unknown opcodes, arguments
// that run past the end of data, and absurd MARK nesting, so that the unpickler is only
// ever given input whose every length claim is backed by real bytes.
func scanPickle(data []byte) (int, error) {
	return scanPickleLimits(data, Limits{}.resolve(0))
}

// scanPickleLimits is scanPickle under lim's opcode and object budgets (lim is resolved).
// It also rejects integers longer than MaxLongBytes, which gopickle would decode in
// quadratic time.
func scanPickleLimits(data []byte, lim Limits) (int, error) {
	depth, ops, objects := 0, 0, 0
	for i := 0; i < len(data); {
		op := data[i]
		at := i
		i++
		ops++
		if ops > lim.MaxPickleOps {
			return 0, fmt.Errorf("pickle has more than %d opcodes (set $%s to allow more)", lim.MaxPickleOps, EnvMaxPickleOps)
		}
		if pushes(op) {
			objects++
			if objects > lim.MaxPickleObjects {
				return 0, fmt.Errorf("pickle creates more than %d objects (set $%s to allow more)", lim.MaxPickleObjects, EnvMaxPickleObjects)
			}
		}
		kind := opArg[op]
		var n uint64
		switch kind {
		case argInvalid:
			return 0, fmt.Errorf("invalid pickle opcode 0x%02x at offset %d", op, at)
		case argNone:
		case argFixed:
			n = uint64(opArgLen[op])
		case argLine, argLine2:
			lines := 1
			if kind == argLine2 {
				lines = 2
			}
			for range lines {
				nl := bytes.IndexByte(data[i:], '\n')
				if nl < 0 {
					return 0, fmt.Errorf("pickle truncated at offset %d", at)
				}
				if (op == 'I' || op == 'L') && nl > 3*MaxLongBytes {
					return 0, fmt.Errorf("pickled integer of %d digits at offset %d (at most %d accepted)", nl, at, 3*MaxLongBytes)
				}
				i += nl + 1
			}
		case argCount1:
			if i+1 > len(data) {
				return 0, fmt.Errorf("pickle truncated at offset %d", at)
			}
			n = 1 + uint64(data[i])
		case argCount4:
			if i+4 > len(data) {
				return 0, fmt.Errorf("pickle truncated at offset %d", at)
			}
			l := int32(binary.LittleEndian.Uint32(data[i:]))
			if l < 0 {
				return 0, fmt.Errorf("negative pickle length at offset %d", at)
			}
			n = 4 + uint64(l)
		case argCount8, argFrame:
			if i+8 > len(data) {
				return 0, fmt.Errorf("pickle truncated at offset %d", at)
			}
			l := binary.LittleEndian.Uint64(data[i:])
			if l > uint64(len(data)) {
				return 0, fmt.Errorf("pickle length %d at offset %d exceeds the data", l, at)
			}
			n = 8
			if kind == argCount8 {
				n += l
			}
		}
		if n > uint64(len(data)-i) {
			return 0, fmt.Errorf("pickle truncated at offset %d", at)
		}
		if op == opLong1 || op == opLong4 {
			if l := n - uint64(1+3*(op-opLong1)); l > MaxLongBytes { // n includes the 1- or 4-byte length
				return 0, fmt.Errorf("pickled integer of %d bytes at offset %d (at most %d accepted)", l, at, MaxLongBytes)
			}
		}
		i += int(n)
		switch {
		case op == opMark:
			depth++
			if depth > maxPickleMarks {
				return 0, fmt.Errorf("pickle nests more than %d levels deep", maxPickleMarks)
			}
		case popsMark(op):
			depth = max(0, depth-1)
		case op == opLong1 && n == 1:
			// CPython reads an empty LONG1 as 0; gopickle would index out of range.
			return 0, fmt.Errorf("empty LONG1 at offset %d", at)
		case op == opStop:
			return i, nil
		}
	}
	return 0, fmt.Errorf("pickle truncated (no STOP opcode)")
}
