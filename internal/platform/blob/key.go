package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// shaKey is where the blob with hash sha lives; sha must be checked.
func shaKey(sha string) string {
	return shaPrefix + sha[:2] + "/" + sha
}

// checkSHA accepts exactly 64 lowercase hex digits.
func checkSHA(sha string) error {
	if len(sha) != 64 {
		return fmt.Errorf("%w: sha256 %q: want 64 hex digits", ErrInvalidKey, sha)
	}
	for i := 0; i < len(sha); i++ {
		c := sha[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: sha256 %q: want lowercase hex digits", ErrInvalidKey, sha)
		}
	}
	return nil
}

// checkKey accepts relative slash-separated UTF-8 paths without empty, "."
// or ".." segments, so that a key cannot escape the file backend's directory
// or mean different objects on different backends.
func checkKey(key string) error {
	if key == "" || !utf8.ValidString(key) || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	return nil
}
