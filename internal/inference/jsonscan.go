package inference

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth bounds nesting, so a hostile body cannot exhaust the stack.
const maxJSONDepth = 64

// errSyntax is the scanner's one error; the decoders add which field.
var errSyntax = errors.New("malformed JSON")

// scanner reads JSON from a byte slice without reflection. Strings without
// escapes are returned as sub-slices of the input; escaped strings are
// unescaped into arena, which only grows, so earlier results stay valid
// until reset. It never allocates except to grow arena.
type scanner struct {
	b     []byte
	i     int
	arena []byte
}

func (s *scanner) reset(b []byte) {
	s.b, s.i, s.arena = b, 0, s.arena[:0]
}

// ws skips white space and returns the next byte, 0 at the end.
func (s *scanner) ws() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// eat consumes c after white space, reporting whether it was there.
func (s *scanner) eat(c byte) bool {
	if s.ws() == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space remains.
func (s *scanner) end() bool { return s.ws() == 0 && s.i == len(s.b) }

// str reads a string.
func (s *scanner) str() ([]byte, error) {
	if !s.eat('"') {
		return nil, errSyntax
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], nil
		case c == '\\':
			return s.unescape(start)
		case c < 0x20:
			return nil, errSyntax
		}
		s.i++
	}
	return nil, errSyntax
}

// unescape continues str from the first backslash.
func (s *scanner) unescape(start int) ([]byte, error) {
	from := len(s.arena)
	s.arena = append(s.arena, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.arena[from:len(s.arena):len(s.arena)], nil
		case c < 0x20:
			return nil, errSyntax
		case c != '\\':
			s.arena = append(s.arena, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, errSyntax
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.arena = append(s.arena, e)
		case 'b':
			s.arena = append(s.arena, '\b')
		case 'f':
			s.arena = append(s.arena, '\f')
		case 'n':
			s.arena = append(s.arena, '\n')
		case 'r':
			s.arena = append(s.arena, '\r')
		case 't':
			s.arena = append(s.arena, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, errSyntax
			}
			s.arena = utf8.AppendRune(s.arena, r)
		default:
			return nil, errSyntax
		}
	}
	return nil, errSyntax
}

// hex4 reads the four hex digits of a \u escape (and a following low
// surrogate when the first is a high one).
func (s *scanner) hex4() (rune, bool) {
	r, ok := s.hexDigits()
	if !ok {
		return 0, false
	}
	if r >= 0xd800 && r < 0xdc00 && s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
		s.i += 2
		lo, ok := s.hexDigits()
		if !ok || lo < 0xdc00 || lo >= 0xe000 {
			return utf8.RuneError, ok
		}
		return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, true
	}
	if r >= 0xd800 && r < 0xe000 {
		return utf8.RuneError, true
	}
	return r, true
}

func (s *scanner) hexDigits() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// numSpan reads the bytes of a JSON number, checking its grammar.
func (s *scanner) numSpan() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if !s.digits() {
		return nil, errSyntax
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return nil, errSyntax
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return nil, errSyntax
		}
	}
	return s.b[start:s.i], nil
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// num reads a number as float64, with the value strconv.ParseFloat gives
// its text. It checks the grammar numSpan checks while it collects the
// first 19 significant digits (in local variables, eight at a time where
// it can: this loop is most of decoding a request), so the text is read
// once; a number with a non-zero digit past those, and the rare one
// decimalToFloat declines, goes through strconv.
func (s *scanner) num() (float64, error) {
	s.ws()
	b, i := s.b, s.i
	start := i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var man uint64
	nd, exp10, exact := 0, 0, true
	j := i
	for i < len(b) && b[i] == '0' {
		i++ // leading zeros are not significant
	}
	// Past them every digit is, so eight go in at once while they fit the
	// 19, just as they would one by one; the loops after take the rest.
	for nd <= maxMantDigits-8 && len(b)-i >= 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if !eightDigits(x) {
			break
		}
		man, nd, i = man*1e8+eightValue(x), nd+8, i+8
	}
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		if nd < maxMantDigits {
			man = man*10 + uint64(b[i]-'0')
			if man != 0 {
				nd++
			}
		} else {
			exp10++
			exact = exact && b[i] == '0'
		}
	}
	if i == j {
		s.i = i
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		j = i
		if man == 0 {
			for i < len(b) && b[i] == '0' {
				i, exp10 = i+1, exp10-1 // leading zeros only move the point
			}
		}
		// Eight at a time again, each moving the point one place.
		for nd <= maxMantDigits-8 && len(b)-i >= 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			if !eightDigits(x) {
				break
			}
			man, nd, exp10, i = man*1e8+eightValue(x), nd+8, exp10-8, i+8
		}
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			if nd < maxMantDigits {
				man = man*10 + uint64(b[i]-'0')
				if man != 0 {
					nd++
				}
				exp10--
			} else {
				exact = exact && b[i] == '0'
			}
		}
		if i == j {
			s.i = i
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		e, end := exponent(b, i+1)
		if end < 0 {
			s.i = i + 1
			return 0, errSyntax
		}
		i, exp10 = end, exp10+e
	}
	s.i = i
	if exact {
		if v, ok := decimalToFloat(man, exp10, neg); ok {
			return v, nil
		}
	}
	return parseFloatText(b[start:i])
}

// eightDigits reports whether the eight bytes of x, loaded little-endian
// (the first in the low byte), are all ASCII digits: simdjson's and
// fast_float's test. A byte is a digit when neither c-'0' nor c+0x46 ('9'
// gives 0x7f) sets its top bit; a borrow or carry between bytes comes only
// out of a byte that fails, so it cannot hide one.
func eightDigits(x uint64) bool {
	return ((x-0x3030303030303030)|(x+0x4646464646464646))&0x8080808080808080 == 0
}

// eightValue is the number eight ASCII digits loaded as in eightDigits
// spell, in three multiplications, as simdjson and fast_float do it.
func eightValue(x uint64) uint64 {
	x -= 0x3030303030303030
	// Pairs: byte 2k becomes 10*d[2k] + d[2k+1] (at most 99, no carry).
	x = x*10 + x>>8
	// Pairs 0 and 2 (bytes 0 and 4) times 10^6 and 10^2, pairs 1 and 3
	// (bytes 2 and 6) times 10^4 and 1, all landing in the high 32 bits.
	return ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
}

// exponent reads an exponent's sign and digits from b[i:] (after the e),
// returning its value (capped far beyond any float64's) and where it ends,
// -1 when there are no digits.
func exponent(b []byte, i int) (int, int) {
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	j, e := i, 0
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		if e < 1<<20 {
			e = e*10 + int(b[i]-'0')
		}
	}
	if i == j {
		return 0, -1
	}
	if neg {
		e = -e
	}
	return e, i
}

// parseFloatText parses a number's text with strconv; out of range is
// ±Inf or 0 without an error, as encoding/json would refuse it and callers
// check the range.
func parseFloatText(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return v, nil
		}
		return 0, errSyntax
	}
	return v, nil
}

// lit consumes the literal word if it is next.
func (s *scanner) lit(word string) bool {
	s.ws()
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// skip reads and discards one value of any kind.
func (s *scanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return errSyntax
	}
	switch s.ws() {
	case '"':
		_, err := s.str()
		return err
	case '{':
		return s.object(func(*scanner, []byte) error { return s.skip(depth + 1) })
	case '[':
		return s.array(func(*scanner) error { return s.skip(depth + 1) })
	case 't':
		return s.want(s.lit("true"))
	case 'f':
		return s.want(s.lit("false"))
	case 'n':
		return s.want(s.lit("null"))
	default:
		_, err := s.numSpan()
		return err
	}
}

func (s *scanner) want(ok bool) error {
	if !ok {
		return errSyntax
	}
	return nil
}

// object reads an object, calling fn with each key; fn must consume the
// value.
func (s *scanner) object(fn func(s *scanner, key []byte) error) error {
	if !s.eat('{') {
		return errSyntax
	}
	if s.eat('}') {
		return nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		if !s.eat(':') {
			return errSyntax
		}
		if err := fn(s, key); err != nil {
			return err
		}
		if s.eat('}') {
			return nil
		}
		if !s.eat(',') {
			return errSyntax
		}
	}
}

// array reads an array, calling fn for each element; fn must consume it.
func (s *scanner) array(fn func(s *scanner) error) error {
	if !s.eat('[') {
		return errSyntax
	}
	if s.eat(']') {
		return nil
	}
	for {
		if err := fn(s); err != nil {
			return err
		}
		if s.eat(']') {
			return nil
		}
		if !s.eat(',') {
			return errSyntax
		}
	}
}
