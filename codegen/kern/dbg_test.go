package kern

import "testing"

func TestDbgWinoBlock(t *testing.T) {
	c := Conv{C: 192, H: 14, W: 14, K: 192, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true}
	c2 := Conv{C: 96, H: 28, W: 28, K: 96, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true}
	ks := []Kernel{
		&Winograd{Conv: c, RK: 2, RT: 8, T: 8, KC: 2},
		&Winograd{Conv: c, RK: 4, RT: 4, T: 16, KC: 4},
		&Winograd{Conv: c, RK: 4, RT: 4, T: 16, KC: 12},
		&Winograd{Conv: c, RK: 4, RT: 4, T: 8, KC: 4},
		&Winograd{Conv: c, RK: 2, RT: 8, T: 16, KC: 6},
		&Winograd{Conv: c, RK: 3, RT: 4, T: 16, KC: 6},
		&Winograd{Conv: c2, RK: 3, RT: 7, T: 7, KC: 3},
		&Winograd{Conv: c2, RK: 3, RT: 7, T: 14, KC: 6},
		&Winograd{Conv: c2, RK: 3, RT: 7, T: 21, KC: 6},
		&Winograd{Conv: c2, RK: 6, RT: 3, T: 12, KC: 6},
	}
	res, err := MeasureAll(ks, 1, 21, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range res.Layers {
		t.Logf("%-70s %7.3f ms %6.1f items %d", l.Kernel, l.Ms, l.GFlops, ks[i].Items())
	}
}
