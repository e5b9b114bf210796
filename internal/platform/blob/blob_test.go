package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
)

// backends opens a fresh, empty store of every kind; the suite below runs
// against each.
var backends = []struct {
	name string
	open func(*testing.T) *Store
}{
	{"file", openFile},
	{"mem", func(t *testing.T) *Store { return openStore(t, Config{URL: "mem://"}, "") }},
	{"s3", openS3},
}

func openStore(t *testing.T, cfg Config, dataDir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg, dataDir)
	if err != nil {
		t.Fatalf("open %q: %v", cfg.URL, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func openFile(t *testing.T) *Store { return openStore(t, Config{}, t.TempDir()) }

// openS3 serves an in-memory fake S3 on 127.0.0.1:0 and opens a bucket on it
// through an s3:// URL, as production does.
func openS3(t *testing.T) *Store {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("plinth"); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	return openStore(t, Config{URL: "s3://plinth?endpoint=" + srv.URL + "&use_path_style=true&region=us-east-1"}, "")
}

func TestStore(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T, *Store)
	}{
		{"PutGet", testPutGet},
		{"PutExisting", testPutExisting},
		{"PutLarge", testPutLarge},
		{"PutFailuresStoreNothing", testPutFailures},
		{"PutConcurrent", testPutConcurrent},
		{"GetErrors", testGetErrors},
		{"Keys", testKeys},
		{"Ready", testReady},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be.open(t)) })
			}
		})
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hexSum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// keys lists every object in the store.
func keys(t *testing.T, s *Store) []string {
	t.Helper()
	var got []string
	it := s.bucket.List(&blob.ListOptions{})
	for {
		obj, err := it.Next(testCtx(t))
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		got = append(got, obj.Key)
	}
}

func get(t *testing.T, s *Store, sha string) []byte {
	t.Helper()
	r, size, err := s.Get(testCtx(t), sha)
	if err != nil {
		t.Fatalf("get %s: %v", sha, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", sha, err)
	}
	if size != int64(len(data)) {
		t.Errorf("got size %d, want %d", size, len(data))
	}
	return data
}

func testPutGet(t *testing.T, s *Store) {
	ctx := testCtx(t)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("model artifact")},
		{"binary", []byte{0, 1, 2, 255, 254}},
	}
	for _, tt := range tests {
		sha, size, err := s.Put(ctx, bytes.NewReader(tt.data), "", 1<<20)
		if err != nil {
			t.Fatalf("%s: put: %v", tt.name, err)
		}
		if want := hexSum(tt.data); sha != want || size != int64(len(tt.data)) {
			t.Errorf("%s: got %s %d, want %s %d", tt.name, sha, size, want, len(tt.data))
		}
		if diff := cmp.Diff(tt.data, get(t, s, sha), cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("%s: content (-want +got):\n%s", tt.name, diff)
		}
		if ok, err := s.Exists(ctx, sha); err != nil || !ok {
			t.Errorf("%s: got Exists %v %v, want true nil", tt.name, ok, err)
		}
	}
	var want []string
	for _, tt := range tests {
		sha := hexSum(tt.data)
		want = append(want, "sha256/"+sha[:2]+"/"+sha)
	}
	if diff := cmp.Diff(want, keys(t, s), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func testPutExisting(t *testing.T, s *Store) {
	ctx := testCtx(t)
	data := []byte("same bytes")
	for i := range 3 {
		// The expected hash is accepted in either case.
		want := hexSum(data)
		if i == 1 {
			want = strings.ToUpper(want)
		}
		sha, _, err := s.Put(ctx, bytes.NewReader(data), want, 0)
		if err != nil || sha != hexSum(data) {
			t.Fatalf("put %d: got %s %v, want %s nil", i, sha, err, hexSum(data))
		}
	}
	if got := keys(t, s); len(got) != 1 {
		t.Errorf("got keys %v, want one blob and no temporary object", got)
	}
}

func testPutLarge(t *testing.T, s *Store) {
	// Larger than one S3 multipart part (5 MiB).
	data := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16)
	sha, size, err := s.Put(testCtx(t), bytes.NewReader(data), hexSum(data), int64(len(data)))
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if sha != hexSum(data) || size != int64(len(data)) {
		t.Errorf("got %s %d, want %s %d", sha, size, hexSum(data), len(data))
	}
	if !bytes.Equal(get(t, s, sha), data) {
		t.Errorf("large blob read back differs")
	}
}

func testPutFailures(t *testing.T, s *Store) {
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		r       io.Reader
		want    string
		maxSize int64
		wantErr error
	}{
		{"one byte too many", testCtx(t), strings.NewReader("12345678901"), "", 10, ErrTooLarge},
		{"far too large", testCtx(t), bytes.NewReader(make([]byte, 1<<20)), "", 1000, ErrTooLarge},
		{"wrong checksum", testCtx(t), strings.NewReader("abc"), hexSum([]byte("abd")), 0, ErrChecksum},
		{"malformed checksum", testCtx(t), strings.NewReader("abc"), "xyz", 0, ErrInvalidKey},
		{"reader fails", testCtx(t), io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom)), "", 0, boom},
		{"context cancelled", cancelled, strings.NewReader("abc"), "", 0, context.Canceled},
	}
	for _, tt := range tests {
		_, _, err := s.Put(tt.ctx, tt.r, tt.want, tt.maxSize)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if got := keys(t, s); len(got) != 0 {
		t.Errorf("got keys %v after failed puts, want none", got)
	}
	// Exactly at the limit is fine.
	if _, _, err := s.Put(testCtx(t), strings.NewReader("1234567890"), "", 10); err != nil {
		t.Errorf("put of exactly maxSize: got %v, want nil", err)
	}
}

func testPutConcurrent(t *testing.T, s *Store) {
	ctx := testCtx(t)
	data := []byte("raced")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, _, err := s.Put(ctx, bytes.NewReader(data), hexSum(data), 100)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent put: %v", err)
		}
	}
	if diff := cmp.Diff([]string{"sha256/" + hexSum(data)[:2] + "/" + hexSum(data)}, keys(t, s)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func testGetErrors(t *testing.T, s *Store) {
	ctx := testCtx(t)
	missing := hexSum([]byte("never stored"))
	tests := []struct {
		sha  string
		want error
	}{
		{missing, ErrNotFound},
		{strings.ToUpper(missing), ErrInvalidKey},
		{missing[:63], ErrInvalidKey},
		{"../../etc/passwd", ErrInvalidKey},
	}
	for _, tt := range tests {
		if _, _, err := s.Get(ctx, tt.sha); !errors.Is(err, tt.want) {
			t.Errorf("Get(%q): got %v, want %v", tt.sha, err, tt.want)
		}
	}
	if ok, err := s.Exists(ctx, missing); ok || err != nil {
		t.Errorf("Exists(missing): got %v %v, want false nil", ok, err)
	}
	if _, err := s.Exists(ctx, "nope"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Exists(nope): got %v, want ErrInvalidKey", err)
	}
}

func testKeys(t *testing.T, s *Store) {
	ctx := testCtx(t)
	for _, data := range []string{"first", "second"} {
		if err := s.PutKey(ctx, "offline/fraud/2026-01-01.jsonl", []byte(data)); err != nil {
			t.Fatalf("put key: %v", err)
		}
	}
	got, err := s.GetKey(ctx, "offline/fraud/2026-01-01.jsonl")
	if err != nil || string(got) != "second" {
		t.Errorf("got %q %v, want %q nil", got, err, "second")
	}
	if _, err := s.GetKey(ctx, "offline/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetKey(missing): got %v, want ErrNotFound", err)
	}
	for _, key := range []string{"", "/abs", "a//b", "a/../b", "..", "sha256/ab/x", "tmp/x", "a\\b", "offline/a.ndjson.18ed7634f0bb95ef.tmp"} {
		if err := s.PutKey(ctx, key, []byte("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("PutKey(%q): got %v, want ErrInvalidKey", key, err)
		}
	}
}

func testReady(t *testing.T, s *Store) {
	if err := s.Ready(testCtx(t)); err != nil {
		t.Errorf("got Ready %v, want nil", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"", false},
		{"file:///var/lib/plinth/blobs", false},
		{"s3://bucket?endpoint=http://127.0.0.1:9000&use_path_style=true&region=us-east-1", false},
		{"mem://", false},
		{"file://relative/dir", true},
		{"s3://", true},
		{"gs://bucket", true},
		{"/just/a/path", true},
	}
	for _, tt := range tests {
		err := (&Config{URL: tt.url}).Validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("Validate(%q): got %v, want error %v", tt.url, err, tt.wantErr)
		}
	}
}

func TestOpenFileURL(t *testing.T) {
	dir := t.TempDir() + "/nested/blobs"
	s := openStore(t, Config{URL: "file://" + dir}, "")
	if err := s.Ready(testCtx(t)); err != nil {
		t.Errorf("got Ready %v, want nil (directory created)", err)
	}
	if _, err := Open(context.Background(), Config{}, ""); err == nil {
		t.Errorf("Open without URL and data dir: got nil error, want one")
	}
}

// TestListKeysSkipsWritesInProgress: fileblob writes a key as a temporary
// file beside it and renames it when done; a listing taken meanwhile must
// not offer the temporary file, which is gone by the time it is read.
func TestListKeysSkipsWritesInProgress(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Config{URL: "file://" + dir}, "")
	ctx := testCtx(t)
	for _, key := range []string{"offline/a.ndjson", "offline/notes.tmp", "offline/b.v2.tmp"} {
		if err := s.PutKey(ctx, key, []byte("x")); err != nil {
			t.Fatalf("PutKey(%q): %v", key, err)
		}
	}
	partial := filepath.Join(dir, "offline", "c.ndjson.18ed7634f0bb95ef.tmp")
	if err := os.WriteFile(partial, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListKeys(ctx, "offline/")
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	want := []string{"offline/a.ndjson", "offline/b.v2.tmp", "offline/notes.tmp"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}
}
