package embedded

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// snapMagic starts every snapshot file; the format is
// magic, position (uint64), then per entity uvarint-prefixed key and state,
// then a zero-length key and the CRC-32 of everything before it.
const snapMagic = "PLINTH-ONLINE-1\n"

func (s *Store) snapPath(name string) string { return filepath.Join(s.dir, name+".snap") }

// Snapshot writes every view to <dir>/<view>.snap, atomically per file
// (write, fsync, rename). It does nothing without a directory.
func (s *Store) Snapshot() error {
	if s.dir == "" {
		return nil
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var errs []error
	for _, vd := range s.views {
		errs = append(errs, s.snapshotView(vd))
	}
	return errors.Join(errs...)
}

func (s *Store) snapshotView(vd *viewData) error {
	path := s.snapPath(vd.v.Name)
	f, err := os.CreateTemp(s.dir, vd.v.Name+".snap.*")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", vd.v.Name, err)
	}
	defer os.Remove(f.Name())
	crc := crc32.NewIEEE()
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	_, _ = w.WriteString(snapMagic)
	_, _ = w.Write(binary.LittleEndian.AppendUint64(nil, vd.position.Load()))
	var buf []byte
	for i := range vd.shards {
		buf = writeShard(w, vd, &vd.shards[i], buf)
	}
	_, _ = w.Write([]byte{0})
	err = errors.Join(w.Flush())
	if err == nil {
		_, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	}
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", vd.v.Name, err)
	}
	return nil
}

func writeShard(w *bufio.Writer, vd *viewData, sh *shard, buf []byte) []byte {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for k, e := range sh.m {
		buf = binary.AppendUvarint(buf[:0], uint64(len(k)))
		buf = append(buf, k...)
		st := vd.v.AppendState(nil, e.st)
		buf = binary.AppendUvarint(buf, uint64(len(st)))
		buf = append(buf, st...)
		_, _ = w.Write(buf)
	}
	return buf
}

// load reads a view's snapshot if there is one. A snapshot that is corrupt
// or was written under another declaration of the view is set aside
// (renamed *.bad) and the view starts empty, at position 0.
func (s *Store) load(vd *viewData) error {
	if s.dir == "" {
		return nil
	}
	path := s.snapPath(vd.v.Name)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load snapshot %s: %w", vd.v.Name, err)
	}
	n, err := s.decode(vd, b)
	if err != nil {
		s.logger.Warn("discarding online feature snapshot; the view is rebuilt from the stream", "view", vd.v.Name, "err", err)
		for i := range vd.shards {
			clear(vd.shards[i].m)
		}
		vd.position.Store(0)
		return os.Rename(path, path+".bad")
	}
	s.logger.Info("online feature snapshot loaded", "view", vd.v.Name, "entities", n, "position", vd.position.Load())
	return nil
}

func (s *Store) decode(vd *viewData, b []byte) (int, error) {
	if len(b) < len(snapMagic)+8+1+4 || !bytes.HasPrefix(b, []byte(snapMagic)) {
		return 0, errors.New("not a snapshot")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return 0, errors.New("checksum mismatch")
	}
	body = body[len(snapMagic):]
	vd.position.Store(binary.LittleEndian.Uint64(body))
	body = body[8:]
	n := 0
	for {
		key, rest, ok := chunk(body)
		if !ok {
			return n, errors.New("truncated")
		}
		if len(key) == 0 {
			return n, nil
		}
		st, rest2, ok := chunk(rest)
		if !ok {
			return n, errors.New("truncated")
		}
		state, err := vd.v.DecodeState(st)
		if err != nil {
			return n, err
		}
		e := &entry{st: state, vals: make([]float64, vd.v.Width())}
		vd.shards[shardOf(string(key))].m[string(key)] = e
		body, n = rest2, n+1
	}
}

// chunk reads one uvarint-prefixed byte string.
func chunk(b []byte) (data, rest []byte, ok bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return nil, nil, false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}
