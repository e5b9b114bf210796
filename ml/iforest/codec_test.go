package iforest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plinthai/plinth/ml/artifact"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	f := blob(800, 4)
	m, err := Fit(f, Config{Seed: 3, NumTrees: 20, Contamination: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf, artifact.Header{}); err != nil {
		t.Fatal(err)
	}
	got, h, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Score(f, nil)
	have, err := got.Score(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("scores changed by save and load (-saved +loaded):\n%s", diff)
	}
	if got.Threshold != m.Threshold || h.Task != "anomaly" || h.Kind != Kind {
		t.Errorf("got threshold %v, task %q, kind %q; want %v, anomaly, %q", got.Threshold, h.Task, h.Kind, m.Threshold, Kind)
	}
}

func TestLoadRejects(t *testing.T) {
	m, _ := Fit(blob(100, 1), Config{NumTrees: 2})
	good := m.payload()
	cycle := append([]byte(nil), good...)
	// The first tree's root is node 0 after the header; point its left child
	// back at itself.
	off := 4 + 8 + 4 + (2 + 1) + (2 + 1) + 4 + 4 + 8
	cycle[off], cycle[off+1], cycle[off+2], cycle[off+3] = 0, 0, 0, 0
	tests := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"cycle":     cycle,
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			data, _ := artifact.Marshal(artifact.Header{Kind: Kind, KindVersion: KindVersion, Schema: []artifact.Field{{Name: "a"}, {Name: "b"}}}, p)
			if _, _, err := Load(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
				t.Errorf("got %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	m, _ := Fit(blob(50, 1), Config{NumTrees: 3, SampleSize: 16})
	var buf bytes.Buffer
	_ = m.Save(&buf, artifact.Header{})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, err := m.ScoreRow(make([]float32, len(m.Names))); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecode fuzzes the payload decoder directly, past the envelope's checksum.
func FuzzDecode(f *testing.F) {
	m, _ := Fit(blob(50, 1), Config{NumTrees: 3, SampleSize: 16})
	f.Add(m.payload())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			return
		}
		if _, err := m.ScoreRow(make([]float32, len(m.Names))); err != nil {
			t.Fatal(err)
		}
	})
}
