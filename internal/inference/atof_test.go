package inference

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refNum is what num must agree with: numSpan's grammar, then strconv.
func refNum(text string) (float64, int, error) {
	s := scanner{b: []byte(text)}
	span, err := s.numSpan()
	if err != nil {
		return 0, 0, err
	}
	v, err := parseFloatText(span)
	return v, s.i, err
}

// checkNum compares num with refNum on text: the same error, the same
// bits, the same end.
func checkNum(t *testing.T, text string) {
	t.Helper()
	want, wantEnd, wantErr := refNum(text)
	s := scanner{b: []byte(text)}
	got, err := s.num()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("num(%q): got error %v, want %v", text, err, wantErr)
	}
	if err != nil {
		return
	}
	if math.Float64bits(got) != math.Float64bits(want) || s.i != wantEnd {
		t.Fatalf("num(%q) = %v (%#x) ending at %d, want %v (%#x) ending at %d",
			text, got, math.Float64bits(got), s.i, want, math.Float64bits(want), wantEnd)
	}
}

func TestNumMatchesStrconv(t *testing.T) {
	for _, text := range []string{
		"0", "-0", "00", "0.0", "-0.0e5", "1", "-1", "9007199254740992", "9007199254740993", "9007199254740995",
		"123456789012345678", "1234567890123456789", "12345678901234567890", "99999999999999999999999",
		"0.1", "0.2", "0.3", "1.1", "-1.4190963259163751", "1.6553037452729042", "-10.14994919286645",
		"1e22", "1e23", "1e-22", "1e-23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623159e308",
		"1e308", "1e309", "2e308", "-1e400", "1e-400", "4.9406564584124654e-324", "2.4703282292062327e-324",
		"2.4703282292062328e-324", "2.2250738585072011e-308", "2.2250738585072014e-308", "2.225073858507201136e-308",
		"0.000000000000000000000000000001", "100000000000000000000000000000e-30", "7.0e-10", "5e-324", "1E5", "1e+5",
		"0.5", "1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124", "1.00000000000000011102230246251565404236316680908203126",
		"4503599627370496.5", "4503599627370497.5", "1e99999999999", "0e99999999999", "1e-99999999999",
		"-", "1.", ".5", "1e", "1e+", "+1", "1x", "1.5.5", "1e5e5", "01", "1,2", "3 ",
	} {
		checkNum(t, text)
	}
}

func TestNumMatchesStrconvRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300000
	if testing.Short() {
		n = 20000
	}
	for range n {
		checkNum(t, randomNumber(r))
	}
}

// randomNumber writes a number of random digits, point and exponent, with
// a bias to the 17 significant digits floats print with.
func randomNumber(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteByte('-')
	}
	switch r.IntN(4) {
	case 0:
		b.WriteString(strconv.FormatFloat(math.Float64frombits(r.Uint64()), 'g', -1, 64))
		if strings.ContainsAny(b.String(), "IN") {
			return "1"
		}
		return b.String()
	case 1:
		b.WriteString(strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(40)-20)), 'g', 17, 64))
		return b.String()
	}
	digits := 1 + r.IntN(25)
	point := r.IntN(digits + 1)
	for i := range digits {
		if i == point && i > 0 {
			b.WriteByte('.')
		}
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	if r.IntN(2) == 0 {
		b.WriteString("e")
		b.WriteString(strconv.Itoa(r.IntN(700) - 350))
	}
	return b.String()
}

// FuzzScanNumber checks num against strconv on arbitrary text.
func FuzzScanNumber(f *testing.F) {
	for _, s := range []string{"-1.4190963259163751", "1e23", "9007199254740993", "2.2250738585072011e-308", "0.1e-400", "1e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { checkNum(t, text) })
}

func BenchmarkNum(b *testing.B) {
	for _, text := range []string{"-1.4190963259163751", "0.646855478104738", "12", "1.5e300"} {
		b.Run(text, func(b *testing.B) {
			s := scanner{b: []byte(text)}
			for b.Loop() {
				s.i = 0
				if _, err := s.num(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPow10Mant pins entries of the table against the published values of
// the algorithm's table (floor(10^e * 2^k) in [2^127, 2^128)).
func TestPow10Mant(t *testing.T) {
	for _, tt := range []struct {
		e      int
		hi, lo uint64
	}{
		{-348, 0xfa8fd5a0081c0288, 0x1732c869cd60e453},
		{-1, 0xcccccccccccccccc, 0xcccccccccccccccc},
		{0, 0x8000000000000000, 0},
		{1, 0xa000000000000000, 0},
		{23, 0xa968163f0a57b400, 0},
		{347, 0xd13eb46469447567, 0x4b7195f2d2d1a9fb},
	} {
		got := pow10Mant()[tt.e-pow10Min]
		if got != [2]uint64{tt.hi, tt.lo} {
			t.Errorf("10^%d: got {%#x, %#x}, want {%#x, %#x}", tt.e, got[0], got[1], tt.hi, tt.lo)
		}
	}
}
