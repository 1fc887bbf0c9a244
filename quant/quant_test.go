package quant

import (
	"math"
	"testing"

	"github.com/vggsim/vggsim/tensor"
)

func TestSQNRClosedForm(t *testing.T) {
	// bits=2: qmax=1, scale=max|x|=1; 0.5 rounds half-to-even to 0: noise 0.25, signal 1.25.
	w := tensor.FromF32([]float32{1, 0.5}, 2, 1)
	s := MeasureWeights(w, 2)
	if want := 10 * math.Log10(1.25/0.25); math.Abs(s.SQNRTensorDB-want) > 1e-12 {
		t.Errorf("per-tensor SQNR = %v, want %v", s.SQNRTensorDB, want)
	}
	// Per channel each row has its own scale, so both values are exact.
	if !math.IsInf(s.SQNRChanDB, 1) {
		t.Errorf("per-channel SQNR = %v, want +Inf", s.SQNRChanDB)
	}
	if s.Min != 0.5 || s.Max != 1 || s.Std != 0.25 || s.MaxAbsOverSD != 4 {
		t.Errorf("stats = %+v", s)
	}
}

func TestSQNRActivationChannels(t *testing.T) {
	// [N=2, C=2, 1, 1]: channel 0 holds {4, 2}, channel 1 holds {1, -1}. With bits=3
	// (qmax=3): per channel, scales 4/3 and 1/3: 2/(4/3)=1.5 rounds to 2 → 8/3, error 2/3;
	// per tensor, scale 4/3: 1/(4/3)=0.75 → 1 → 4/3 (error 1/3 twice) and 2 → 8/3 (2/3).
	a := tensor.FromF32([]float32{4, 1, 2, -1}, 2, 2, 1, 1)
	s := MeasureActivation(a, 3)
	sig := 16.0 + 1 + 4 + 1
	if want := 10 * math.Log10(sig/(4.0/9)); math.Abs(s.SQNRChanDB-want) > 1e-9 {
		t.Errorf("per-channel SQNR = %v, want %v", s.SQNRChanDB, want)
	}
	if want := 10 * math.Log10(sig/(4.0/9+2.0/9)); math.Abs(s.SQNRTensorDB-want) > 1e-9 {
		t.Errorf("per-tensor SQNR = %v, want %v", s.SQNRTensorDB, want)
	}
}

func TestMoreBitsLessNoise(t *testing.T) {
	w := tensor.New(16, 9)
	for i := range w.F32 {
		w.F32[i] = float32(math.Sin(float64(i)*1.7) * float64(1+i%5))
	}
	prev := math.Inf(-1)
	for bits := 2; bits <= 16; bits++ {
		s := MeasureWeights(w, bits)
		if s.SQNRTensorDB < prev {
			t.Errorf("bits %d: SQNR %v < %v at fewer bits", bits, s.SQNRTensorDB, prev)
		}
		prev = s.SQNRTensorDB
	}
	// Roughly 6 dB per bit.
	if d := MeasureWeights(w, 9).SQNRTensorDB - MeasureWeights(w, 8).SQNRTensorDB; d < 4 || d > 8 {
		t.Errorf("one more bit gained %v dB, want about 6", d)
	}
}
