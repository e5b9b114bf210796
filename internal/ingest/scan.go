package ingest

import "encoding/json"

// The checker reads events in one pass, without decoding them into maps:
// the scanner below validates JSON text exactly as json.Valid does (the
// same grammar, the same nesting limit, bytes above 0x7f taken as they
// are) and hands out sub-slices of the input while it goes. FuzzScan holds
// it to json.Valid and json.Unmarshal.

// maxDepth is encoding/json's nesting limit: deeper text is not valid.
const maxDepth = 10000

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanValue returns the index just after the JSON value that starts at
// b[i], and false when there is no valid value there. depth counts the
// arrays and objects that enclose it.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		return scanObject(b, i, depth+1, nil)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, false
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// scanString reads the string whose quote is at b[i]: no control
// character, and only the escapes JSON defines.
func scanString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			n, ok := scanEscape(b, i+1)
			if !ok {
				return i, false
			}
			i = n - 1
		}
	}
	return i, false
}

// scanEscape reads the escape after a backslash at b[i-1].
func scanEscape(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1, true
	case 'u':
		if len(b)-i < 5 {
			return i, false
		}
		for _, h := range b[i+1 : i+5] {
			if !isHex(h) {
				return i, false
			}
		}
		return i + 5, true
	}
	return i, false
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		i = digits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = digits(b, i)
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// scanArray reads the array whose bracket is at b[i].
func scanArray(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = scanValue(b, i, depth); !ok {
			return i, false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return i, false
		}
	}
}

// scanObject reads the object whose brace is at b[i], calling fn (when not
// nil) with the key, still quoted, and the value of each member in order.
func scanObject(b []byte, i, depth int, fn func(key, val []byte)) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		k, ok := scanString(b, i)
		if !ok {
			return k, false
		}
		key := b[i:k]
		if k = skipSpace(b, k); k >= len(b) || b[k] != ':' {
			return k, false
		}
		v := skipSpace(b, k+1)
		end, ok := scanValue(b, v, depth)
		if !ok {
			return end, false
		}
		if fn != nil {
			fn(key, b[v:end])
		}
		if i = skipSpace(b, end); i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '}':
			return i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return i, false
		}
	}
}

// eachMember reports whether b is one valid JSON object, alone but for
// white space, and calls fn with the key (still quoted) and the value of
// each of its members in order. fn may have been called for some members
// when it reports false.
func eachMember(b []byte, fn func(key, val []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	end, ok := scanObject(b, i, 1, fn)
	return ok && skipSpace(b, end) == len(b)
}

// splitArray reports whether b is one valid JSON array, alone but for
// white space, and appends its elements to out, at most max of them; n
// counts them all.
func splitArray(b []byte, max int, out [][]byte) (elems [][]byte, n int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return out, 0, false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return out, 0, skipSpace(b, i+1) == len(b)
	}
	for {
		end, ok := scanValue(b, i, 1)
		if !ok {
			return out, n, false
		}
		if n++; n <= max {
			out = append(out, b[i:end])
		}
		if i = skipSpace(b, end); i >= len(b) {
			return out, n, false
		}
		switch b[i] {
		case ']':
			return out, n, skipSpace(b, i+1) == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return out, n, false
		}
	}
}

// valid reports whether b is one valid JSON value, as json.Valid does.
func valid(b []byte) bool {
	end, ok := scanValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, end) == len(b)
}

// unquote returns the value of a JSON string literal.
func unquote(q []byte) string { return string(unquoteBytes(q, nil)) }

// unquoteBytes returns the value of a valid JSON string literal: a
// sub-slice of q when it holds no escape, otherwise its decoding appended
// to buf.
func unquoteBytes(q, buf []byte) []byte {
	if len(q) < 2 {
		return nil
	}
	body := q[1 : len(q)-1]
	for _, c := range body {
		if c == '\\' {
			var s string
			_ = json.Unmarshal(q, &s)
			return append(buf, s...)
		}
	}
	return body
}
