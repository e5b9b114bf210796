package inference

import (
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

// num reads a number as float64. Integers of up to 15 digits take a fast
// path; everything else goes through strconv, which is exact.
func (s *scanner) num() (float64, error) {
	b, err := s.numSpan()
	if err != nil {
		return 0, err
	}
	if v, ok := smallInt(b); ok {
		return v, nil
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return v, nil // ±Inf or 0, as encoding/json would refuse; callers check range
		}
		return 0, errSyntax
	}
	return v, nil
}

func smallInt(b []byte) (float64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return float64(n), true
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
