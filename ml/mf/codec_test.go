package mf

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plinthai/plinth/ml/artifact"
)

func savedBytes(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := artifact.Header{Params: map[string]string{"factors": "3"}, Metrics: map[string]float64{"rmse": 0.9}}
	if err := m.Save(&buf, h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	train, _ := lowRank(6, 5)
	sgd, err := TrainSGD(train, SGDConfig{Factors: 3, Epochs: 3, LR: 0.01, Reg: 0.02, InitStd: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := blocks()
	als, err := TrainALS(data, ALSConfig{Factors: 3, Iterations: 2, Reg: 0.1, Alpha: 2, Binarize: true, CGSteps: 2, InitStd: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Model{sgd, als} {
		t.Run(m.Kind(), func(t *testing.T) {
			got, h, err := Load(bytes.NewReader(savedBytes(t, m)))
			if err != nil {
				t.Fatal(err)
			}
			if h.Kind != m.Kind() || h.KindVersion != KindVersion || h.Metrics["rmse"] != 0.9 {
				t.Errorf("got header kind %q v%d metrics %v, want %q v%d rmse 0.9", h.Kind, h.KindVersion, h.Metrics, m.Kind(), KindVersion)
			}
			if diff := cmp.Diff(m, got, cmp.AllowUnexported(Model{}, csr{}, hyper{})); diff != "" {
				t.Errorf("loaded model differs (-saved +loaded):\n%s", diff)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	data, _ := blocks()
	m, err := TrainALS(data, ALSConfig{Factors: 2, Iterations: 1, CGSteps: 1, InitStd: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	good := m.marshal()
	wrap := func(kind string, version int, payload []byte) []byte {
		b, err := artifact.Marshal(artifact.Header{Kind: kind, KindVersion: version}, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		file []byte
	}{
		{"other kind", wrap("gbdt", 1, good)},
		{"future version", wrap(KindALS, 2, good)},
		{"truncated payload", wrap(KindALS, 1, good[:len(good)-3])},
		{"trailing bytes", wrap(KindALS, 1, append(append([]byte(nil), good...), 0))},
		{"huge users", wrap(KindALS, 1, append([]byte{0xff, 0xff, 0xff, 0x7f}, good[4:]...))},
		{"zero factors", wrap(KindALS, 1, append(append([]byte(nil), good[:8]...), append([]byte{0, 0, 0, 0}, good[12:]...)...))},
		{"empty payload", wrap(KindALS, 1, nil)},
		{"not an artifact", []byte("hello")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Load(bytes.NewReader(tt.file)); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
	if _, _, err := Load(bytes.NewReader(wrap(KindALS, 1, good[:20]))); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: got error %v, want ErrFormat", err)
	}
}

// FuzzLoad feeds arbitrary payloads (wrapped in a valid envelope, so the
// fuzzer reaches the model decoder) and raw files to Load: it must never
// panic, and whatever it accepts must be usable.
func FuzzLoad(f *testing.F) {
	train, _ := lowRank(3, 3)
	sgd, _ := TrainSGD(train, SGDConfig{Factors: 2, Epochs: 1, LR: 0.01, InitStd: 0.1})
	data, _ := blocks()
	als, _ := TrainALS(data, ALSConfig{Factors: 2, Iterations: 1, CGSteps: 1, InitStd: 0.1})
	f.Add(true, sgd.marshal())
	f.Add(false, als.marshal())
	f.Add(false, savedBytes(f, als))
	f.Fuzz(func(t *testing.T, explicit bool, payload []byte) {
		kind := KindALS
		if explicit {
			kind = KindSGD
		}
		file, err := artifact.Marshal(artifact.Header{Kind: kind, KindVersion: KindVersion}, payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range [][]byte{file, payload} {
			m, _, err := Load(bytes.NewReader(in))
			if err != nil {
				continue
			}
			if _, err := m.Recommend(0, 3); err != nil {
				t.Errorf("loaded model cannot recommend: %v", err)
			}
			if _, err := m.Predict(m.NumUsers()-1, m.NumItems()-1); err != nil {
				t.Errorf("loaded model cannot predict: %v", err)
			}
		}
	})
}
