package bus

import (
	"strconv"

	"github.com/nats-io/nats.go"
)

// parseReply reads "<batch>.<index>".
func parseReply(s string) (batch uint64, index int, ok bool) {
	dot := -1
	for j := 0; j < len(s); j++ {
		if s[j] == '.' {
			dot = j
			break
		}
	}
	if dot < 0 {
		return 0, 0, false
	}
	batch, err := strconv.ParseUint(s[:dot], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	index, err = strconv.Atoi(s[dot+1:])
	return batch, index, err == nil && index >= 0
}

// parseAck reads JetStream's answer to a publish: a PubAck document
// ({"stream":..., "seq":..., "duplicate":true}) when persisted, one with
// an "error" member, or a status message without data ("503" when no
// stream listens on the subject). The reason is empty exactly when the
// outcome is not Failed.
func parseAck(m *nats.Msg) (Outcome, string) {
	if len(m.Data) == 0 {
		return Failed, "no stream answered (status " + m.Header.Get("Status") + ")"
	}
	var streamOK, dup bool
	var errVal []byte
	ok := eachMember(m.Data, func(key, val []byte) {
		switch string(key) {
		case `"stream"`:
			streamOK = len(val) > 2 && val[0] == '"'
		case `"duplicate"`:
			dup = string(val) == "true"
		case `"error"`:
			if string(val) != "null" {
				errVal = val
			}
		}
	})
	switch {
	case !ok:
		return Failed, "malformed acknowledgement"
	case errVal != nil:
		return Failed, string(errVal)
	case !streamOK:
		return Failed, "acknowledgement names no stream"
	case dup:
		return Duplicate, ""
	}
	return Stored, ""
}

// eachMember reports whether b is one JSON object, alone but for white
// space, and calls fn with the key (still quoted) and the value of each of
// its members in order. It reads what the NATS server writes, so it checks
// the shape of that object (keys, colons, commas, strings) but skips a
// nested object or array by its brackets and takes a number or literal as
// the run of bytes up to the next delimiter: every valid object is read
// as encoding/json reads it (FuzzEachMember), some invalid ones pass.
// fn may have been called for some members when it reports false.
func eachMember(b []byte, fn func(key, val []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		keyEnd, ok := skipString(b, i)
		if !ok {
			return false
		}
		k := skipSpace(b, keyEnd)
		if k >= len(b) || b[k] != ':' {
			return false
		}
		v := skipSpace(b, k+1)
		end, ok := skipValue(b, v)
		if !ok {
			return false
		}
		fn(b[i:keyEnd], b[v:end])
		if i = skipSpace(b, end); i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return skipSpace(b, i+1) == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return false
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just after the string whose quote is at
// b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
		}
	}
	return i, false
}

// skipValue returns the index just after the value that starts at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	return j, j > i
}

// isDelim reports whether c ends a number or literal.
func isDelim(c byte) bool {
	switch c {
	case ',', ':', '"', '{', '}', '[', ']':
		return true
	}
	return isSpace(c)
}

// skipNested returns the index just after the object or array whose
// bracket is at b[i], counting brackets outside strings.
func skipNested(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, ok := skipString(b, i)
			if !ok {
				return end, false
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, true
			}
		}
	}
	return i, false
}
