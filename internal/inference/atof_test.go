package inference

import (
	"encoding/binary"
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

// TestNumEightDigits covers the edges of num's eight-digits-at-once path:
// runs of 8, 16, 17, 18, 19 and more digits in either part or split by
// the point, leading zeros before them, a window that ends in a non-digit,
// and fewer than eight bytes left. Each number is tried alone (at the end
// of the buffer) and with bytes after it, so windows reach past it.
func TestNumEightDigits(t *testing.T) {
	var texts []string
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 18, 19, 20, 21, 24, 27, 40} {
		digits := strings.Repeat("123456789", 5)[:n]
		nines := strings.Repeat("9", n)
		texts = append(texts, digits, nines, "-"+digits, "0."+digits, "0."+nines, "9."+digits,
			digits+".5", digits+"."+digits, "00000000"+digits, "0.00000000"+digits, digits+"e-5", digits+"00000000")
		for p := 1; p < n; p++ {
			texts = append(texts, digits[:p]+"."+digits[p:], nines[:p]+"."+nines[p:]+"e-300")
		}
	}
	texts = append(texts,
		"12345678", "1234567812345678", "12345678123456781", "123456781234567812", "1234567812345678123",
		"12345678123456781234", "12345678123456781230", "123456781234567812300000000", "1234567812345678123000000001",
		"0.12345678", "0.1234567812345678", "0.12345678123456781", "0.123456781234567812", "0.1234567812345678123",
		"0.12345678123456781234", "0.12345678123456781200000001", "1234.5678", "12345678.12345678", "1234567812.345678123",
		"0.00000000123456789", "-0.0000000000000000001", "0.0000000000000000000000001234567890123456789",
		"00000000000000000000000000001", "0.00000000", "0.0000000000000000", "10000000000000000", "1.0000000000000000",
		"1.2345678e5", "1.2345678E+5", "12345678e5", "1.23456789e5", "1.2345678.9", "1.2345678x", "1.12345678e",
		"9007199254740993", "9007199254740993.0", "0.9007199254740993", "1.7976931348623157e308", "4.9406564584124654e-324",
		"99999999.99999999", "99999999999999999999", "18446744073709551615", "18446744073709551616", "1.8446744073709551615e19",
		"1234567", "1.234567", "-1234567", "123456789", "1.23456789",
	)
	for _, text := range texts {
		for _, after := range []string{"", ",", "]}", " 12345678", ",-0.123", "        ", "abcdefgh"} {
			checkNum(t, text+after)
		}
	}
}

// TestEightDigits checks eightDigits and eightValue against a byte-by-byte
// reading: every byte value in every position among digits, then random
// digit strings.
func TestEightDigits(t *testing.T) {
	ref := func(b []byte) (uint64, bool) {
		if len(b) < 8 {
			return 0, false
		}
		var v uint64
		for _, c := range b[:8] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + uint64(c-'0')
		}
		return v, true
	}
	check := func(b []byte) {
		t.Helper()
		want, wantOK := ref(b)
		if len(b) < 8 {
			return // num does not look
		}
		x := binary.LittleEndian.Uint64(b)
		ok := eightDigits(x)
		var got uint64
		if ok {
			got = eightValue(x)
		}
		if got != want || ok != wantOK {
			t.Fatalf("eightDigits(%q) = %d, %v, want %d, %v", b, got, ok, want, wantOK)
		}
	}
	for _, fill := range []byte("09") {
		for pos := range 8 {
			for c := range 256 {
				b := []byte(strings.Repeat(string(fill), 8))
				b[pos] = byte(c)
				check(b)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		if r.IntN(4) == 0 {
			b[r.IntN(8)] = byte(r.Uint32())
		}
		check(b)
	}
}

func TestNumMatchesStrconvRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300000
	if testing.Short() {
		n = 20000
	}
	for range n {
		text := randomNumber(r)
		checkNum(t, text)
		checkNum(t, text+",12345678") // windows reaching past the number
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
	for _, s := range []string{"-1.4190963259163751", "1e23", "9007199254740993", "2.2250738585072011e-308", "0.1e-400", "1e",
		"0.00000000123456789, 1", "12345678123456781234.5", "1.2345678e5]"} {
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
