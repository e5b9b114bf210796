package ingest

import "encoding/json"

// The checker reads events without decoding them into maps: json.Valid
// proves the text well formed (without allocating), and these helpers then
// walk it, returning sub-slices of the input. They assume valid JSON.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string whose quote is at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default:
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
			i++
		}
		return i
	}
}

// members calls fn with the key (still quoted) and value of each member
// of the valid JSON object b, in order.
func members(b []byte, fn func(key, val []byte)) {
	i := skipSpace(b, 0) + 1 // past '{'
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return
		}
		k := skipString(b, i)
		key := b[i:k]
		i = skipSpace(b, k) + 1 // past ':'
		i = skipSpace(b, i)
		v := skipValue(b, i)
		fn(key, b[i:v])
		i = skipSpace(b, v)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// elements returns the elements of the valid JSON array b.
func elements(b []byte) [][]byte {
	var out [][]byte
	i := skipSpace(b, 0) + 1 // past '['
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == ']' {
			return out
		}
		v := skipValue(b, i)
		out = append(out, b[i:v])
		i = skipSpace(b, v)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// unquote returns the value of a JSON string literal; strings without
// escapes are sliced, not decoded.
func unquote(q []byte) string {
	if len(q) < 2 {
		return ""
	}
	body := q[1 : len(q)-1]
	for _, c := range body {
		if c == '\\' {
			var s string
			_ = json.Unmarshal(q, &s)
			return s
		}
	}
	return string(body)
}
