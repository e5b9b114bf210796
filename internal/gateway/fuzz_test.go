package gateway

import (
	"strings"
	"testing"
)

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  plk_0123456789ab_x", "Basic x", "Bearer", "Bearer a b", "Bearer \x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := ParseBearer(header)
		if !ok {
			return
		}
		if tok == "" || len(tok) > maxCredentialBytes || strings.ContainsAny(tok, " \t\r\n") {
			t.Errorf("ParseBearer(%q) = %q, accepted a bad token", header, tok)
		}
		if !strings.HasSuffix(header, tok) {
			t.Errorf("ParseBearer(%q) = %q, not the header's tail", header, tok)
		}
	})
}

func FuzzCheckIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k-1", "", "has space", strings.Repeat("a", 256), "ünï"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if CheckIdempotencyKey(key) != nil {
			return
		}
		if key == "" || len(key) > maxIdempotencyKeyBytes || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Errorf("CheckIdempotencyKey accepted %q", key)
		}
	})
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add("plk_0123456789ab_" + strings.Repeat("A", 43))
	f.Add("plk_short_x")
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		id, ok := parseAPIKey(key)
		if ok && (len(id) != 12 || !strings.HasPrefix(key, APIKeyPrefix+id+"_")) {
			t.Errorf("parseAPIKey(%q) = %q", key, id)
		}
	})
}
