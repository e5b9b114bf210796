package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob" // mem:// URLs
	_ "gocloud.dev/blob/s3blob"  // s3:// URLs
	"gocloud.dev/gcerrors"
)

const (
	shaPrefix = "sha256/"
	tmpPrefix = "tmp/"
	// cleanupTimeout bounds deleting a temporary object after a failure,
	// which runs even when the caller's context is done.
	cleanupTimeout = 30 * time.Second
)

// Store is a blob store. It is safe for concurrent use; Close releases it.
type Store struct {
	bucket *blob.Bucket
	desc   string // for error messages: the URL or directory
}

// Open validates cfg and opens the store, creating the directory for the
// file backend. It does not check that an S3 bucket exists: see Ready.
func Open(ctx context.Context, cfg Config, dataDir string) (*Store, error) {
	if cfg.URL == "" {
		if dataDir == "" {
			return nil, errors.New("open blob store: empty blob.url and no data directory")
		}
		return openDir(filepath.Join(dataDir, defaultDirName))
	}
	u, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return openDir(u.Path)
	}
	b, err := blob.OpenBucket(ctx, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("open blob bucket %q: %w", u.Redacted(), err)
	}
	return &Store{bucket: b, desc: u.Redacted()}, nil
}

func openDir(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open blob directory %q: %w", dir, err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		DirFileMode: 0o750,
		NoTempDir:   true, // rename within the directory: os.TempDir may be another mount
		Metadata:    fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob directory %q: %w", dir, err)
	}
	return &Store{bucket: b, desc: dir}, nil
}

// Put stores the content of r under its SHA-256 and returns the hash
// (lowercase hex) and size. It reads r to the end, or to maxSize+1 bytes:
// past maxSize it fails with ErrTooLarge (maxSize <= 0 means no limit). When
// wantSHA256 is not empty (hex, either case) and the content hashes
// differently it fails with ErrChecksum. On any error nothing is stored.
// Storing content that exists already succeeds and changes nothing.
func (s *Store) Put(ctx context.Context, r io.Reader, wantSHA256 string, maxSize int64) (sha string, size int64, err error) {
	want := strings.ToLower(wantSHA256)
	if want != "" {
		if err := checkSHA(want); err != nil {
			return "", 0, err
		}
	}
	tmp, err := tempKey()
	if err != nil {
		return "", 0, err
	}
	sha, size, err = s.writeTemp(ctx, tmp, r, maxSize)
	if err == nil && want != "" && sha != want {
		err = fmt.Errorf("%w: got sha256 %s, want %s", ErrChecksum, sha, want)
	}
	if err == nil {
		err = s.moveTemp(ctx, tmp, shaKey(sha))
	}
	if err != nil {
		s.deleteQuietly(ctx, tmp)
		return "", 0, err
	}
	return sha, size, nil
}

// writeTemp copies r into key while hashing; a failed write is aborted so
// that the backend keeps nothing (cancelling the writer's context before
// Close is gocloud's way to abort).
func (s *Store) writeTemp(ctx context.Context, key string, r io.Reader, maxSize int64) (string, int64, error) {
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", 0, fmt.Errorf("write blob: %w", err)
	}
	h := sha256.New()
	src := r
	if maxSize > 0 {
		src = io.LimitReader(r, maxSize+1)
	}
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err == nil && maxSize > 0 && n > maxSize {
		err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
	}
	if err != nil {
		abort()
		_ = w.Close()
		return "", 0, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", 0, fmt.Errorf("write blob: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// moveTemp makes the temporary object tmp the blob at key, unless key exists.
func (s *Store) moveTemp(ctx context.Context, tmp, key string) error {
	exists, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return fmt.Errorf("check blob %s: %w", key, err)
	}
	if !exists {
		if err := s.bucket.Copy(ctx, key, tmp, nil); err != nil {
			return fmt.Errorf("store blob %s: %w", key, err)
		}
	}
	if err := s.bucket.Delete(ctx, tmp); err != nil {
		return fmt.Errorf("delete temporary blob %s: %w", tmp, err)
	}
	return nil
}

// deleteQuietly removes a temporary object after a failure, even when ctx
// is done; a missing object is fine (an aborted write leaves none).
func (s *Store) deleteQuietly(ctx context.Context, key string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.bucket.Delete(dctx, key)
}

// Get opens the blob with hash sha (64 lowercase hex digits) and returns it
// with its size; the caller closes the reader. A missing blob is
// ErrNotFound, a malformed hash ErrInvalidKey.
func (s *Store) Get(ctx context.Context, sha string) (io.ReadCloser, int64, error) {
	if err := checkSHA(sha); err != nil {
		return nil, 0, err
	}
	r, err := s.bucket.NewReader(ctx, shaKey(sha), nil)
	if err != nil {
		return nil, 0, s.readError(shaKey(sha), err)
	}
	return r, r.Size(), nil
}

// Exists reports whether the blob with hash sha is stored.
func (s *Store) Exists(ctx context.Context, sha string) (bool, error) {
	if err := checkSHA(sha); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, shaKey(sha))
	if err != nil {
		return false, fmt.Errorf("check blob %s: %w", sha, err)
	}
	return ok, nil
}

// PutKey stores data under key, replacing what was there; readers never see
// a partial object. Keys are slash-separated paths; those under "sha256/"
// and "tmp/", and those shaped like a file the directory backend is still
// writing ("<key>.<hex>.tmp", see isFileblobTemp), are refused with
// ErrInvalidKey.
func (s *Store) PutKey(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, shaPrefix) || strings.HasPrefix(key, tmpPrefix) {
		return fmt.Errorf("%w: %q is reserved for content-addressed blobs", ErrInvalidKey, key)
	}
	if isFileblobTemp(key) {
		return fmt.Errorf("%w: %q has the shape of a file being written (<key>.<hex>.tmp)", ErrInvalidKey, key)
	}
	err := s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("write blob key %q: %w", key, err)
	}
	return nil
}

// GetKey returns the data under key, or ErrNotFound.
func (s *Store) GetKey(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.readError(key, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("read blob key %q: %w", key, err)
	}
	return buf.Bytes(), nil
}

// ListKeys returns the keys that start with prefix, in lexical order,
// excluding the content-addressed and temporary areas and the files the
// directory backend is still writing.
func (s *Store) ListKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list blob keys %q: %w", prefix, err)
		}
		if !strings.HasPrefix(obj.Key, shaPrefix) && !strings.HasPrefix(obj.Key, tmpPrefix) && !isFileblobTemp(obj.Key) {
			keys = append(keys, obj.Key)
		}
	}
}

func (s *Store) readError(key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("read blob %s: %w", key, err)
}

// Ready reports nil when the bucket or directory can be reached.
func (s *Store) Ready(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return fmt.Errorf("blob store %s: %w", s.desc, err)
	}
	if !ok {
		return fmt.Errorf("blob store %s: not accessible", s.desc)
	}
	return nil
}

// Close releases the store.
func (s *Store) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("close blob store %s: %w", s.desc, err)
	}
	return nil
}

// isFileblobTemp reports whether key names a file fileblob is still
// writing: the final key, a dot, the creation time in hex nanoseconds and
// ".tmp". fileblob writes every object so and renames it when done, so a
// listing may meet one; PutKey refuses such keys on every backend, so that
// none is stored that a listing would hide.
func isFileblobTemp(key string) bool {
	rest, ok := strings.CutSuffix(key, ".tmp")
	if !ok {
		return false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 || dot == len(rest)-1 {
		return false
	}
	for _, c := range rest[dot+1:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func tempKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("temporary blob key: %w", err)
	}
	return tmpPrefix + hex.EncodeToString(b[:]), nil
}
