package kern

// ToBlocked returns the NCHW16c copy of one C×H×W image x (NCHW), with zero padding lanes.
func ToBlocked(x []float32, c, h, w int) []float32 {
	cb := (c + Lanes - 1) / Lanes
	y := make([]float32, cb*h*w*Lanes)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < h*w; i++ {
			y[((ch/Lanes)*h*w+i)*Lanes+ch%Lanes] = x[ch*h*w+i]
		}
	}
	return y
}

// FromBlocked returns the NCHW copy of the first c channels of one NCHW16c image y.
func FromBlocked(y []float32, c, h, w int) []float32 {
	x := make([]float32, c*h*w)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < h*w; i++ {
			x[ch*h*w+i] = y[((ch/Lanes)*h*w+i)*Lanes+ch%Lanes]
		}
	}
	return x
}

// BlockedElems returns the floats of one C×H×W image in NCHW16c.
func BlockedElems(c, h, w int) int { return (c + Lanes - 1) / Lanes * Lanes * h * w }
