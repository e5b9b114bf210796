package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func FuzzCheckSHA(f *testing.F) {
	f.Add(hexSum([]byte("x")))
	f.Add("")
	f.Add("../" + hexSum(nil)[3:])
	f.Fuzz(func(t *testing.T, s string) {
		err := checkSHA(s)
		valid := len(s) == 64
		for _, c := range []byte(s) {
			valid = valid && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
		}
		if (err == nil) != valid {
			t.Fatalf("checkSHA(%q) = %v, want valid=%v", s, err, valid)
		}
		if err == nil && shaKey(s) != "sha256/"+s[:2]+"/"+s {
			t.Fatalf("shaKey(%q) = %q", s, shaKey(s))
		}
	})
}

func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{"a/b", "../x", "a//b", "ü/ß", "a\x00b"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if checkKey(key) != nil {
			return
		}
		// An accepted key never climbs out of the bucket's root.
		if key[0] == '/' || bytes.Contains([]byte("/"+key+"/"), []byte("/../")) {
			t.Fatalf("checkKey accepted %q", key)
		}
	})
}

func FuzzPut(f *testing.F) {
	f.Add([]byte("artifact"), int64(0))
	f.Add([]byte{}, int64(1))
	f.Add(bytes.Repeat([]byte{7}, 100), int64(99))
	s, err := Open(context.Background(), Config{URL: "mem://"}, "")
	if err != nil {
		f.Fatalf("open: %v", err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte, maxSize int64) {
		ctx := context.Background()
		sha, size, err := s.Put(ctx, bytes.NewReader(data), "", maxSize)
		if maxSize > 0 && int64(len(data)) > maxSize {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %v, want ErrTooLarge", err)
			}
			return
		}
		if err != nil || sha != hexSum(data) || size != int64(len(data)) {
			t.Fatalf("got %s %d %v, want %s %d nil", sha, size, err, hexSum(data), len(data))
		}
		r, _, err := s.Get(ctx, sha)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(data))
		}
	})
}
