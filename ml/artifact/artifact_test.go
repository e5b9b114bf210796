package artifact

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() Header {
	return Header{
		Kind:        "test",
		KindVersion: 3,
		Task:        "binary",
		Schema:      []Field{{Name: "amount", Type: "float"}, {Name: "mcc", Type: "category", Categories: []string{"a", "b"}}},
		Metrics:     map[string]float64{"auc": 0.9},
		Lineage:     Lineage{Dataset: "ds", ParentVersion: 2},
	}
}

func TestRoundTrip(t *testing.T) {
	payload := []byte("model bytes")
	data, err := Marshal(sample(), payload)
	if err != nil {
		t.Fatal(err)
	}
	h, got, err := Unmarshal(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.FormatVersion = FormatVersion
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("payload = %q, want %q", got, payload)
	}
}

func TestReadRejects(t *testing.T) {
	good, err := Marshal(sample(), bytes.Repeat([]byte{7}, 100))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-40] ^= 1
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrFormat},
		{"bad magic", append([]byte("NOTMAGIC"), good[8:]...), Limits{}, ErrFormat},
		{"truncated", good[:len(good)-10], Limits{}, ErrFormat},
		{"flipped bit", flipped, Limits{}, ErrChecksum},
		{"payload over limit", good, Limits{MaxPayload: 10}, ErrTooLarge},
		{"header over limit", good, Limits{MaxHeader: 10}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Unmarshal(tt.data, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWriteNeedsKind(t *testing.T) {
	if _, err := Marshal(Header{}, nil); err == nil {
		t.Error("got nil error for empty kind, want one")
	}
}

func FuzzRead(f *testing.F) {
	good, _ := Marshal(sample(), []byte("payload"))
	f.Add(good)
	f.Add([]byte(magic + "\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, p, err := Unmarshal(data, Limits{MaxHeader: 1 << 16, MaxPayload: 1 << 16})
		if err != nil {
			return
		}
		again, err := Marshal(h, p)
		if err != nil {
			t.Fatalf("re-marshal of accepted artifact: %v", err)
		}
		if _, _, err := Unmarshal(again, Limits{}); err != nil {
			t.Fatalf("re-read of re-marshalled artifact: %v", err)
		}
	})
}

var errLearner = errors.New("learner: bad artifact")

func TestReadKind(t *testing.T) {
	data, err := Marshal(sample(), []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, p, err := ReadKind(bytes.NewReader(data), Limits{}, "test", 3, errLearner); err != nil || string(p) != "p" {
		t.Errorf("own kind: %q, %v", p, err)
	}
	for _, tt := range []struct {
		kind    string
		version int
	}{{"other", 3}, {"test", 4}} {
		if _, _, err := ReadKind(bytes.NewReader(data), Limits{}, tt.kind, tt.version, errLearner); !errors.Is(err, errLearner) {
			t.Errorf("want %s v%d: %v, want the learner's error", tt.kind, tt.version, err)
		}
	}
	if _, _, err := ReadKind(bytes.NewReader(data[:len(data)-1]), Limits{}, "test", 3, errLearner); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: %v, want ErrFormat", err)
	}
}

func TestCheckNames(t *testing.T) {
	h := sample()
	if err := h.CheckNames([]string{"amount", "mcc"}, errLearner); err != nil {
		t.Errorf("same names: %v", err)
	}
	for _, names := range [][]string{{"mcc", "amount"}, {"amount"}, {"amount", "mcc", "x"}} {
		if err := h.CheckNames(names, errLearner); !errors.Is(err, errLearner) {
			t.Errorf("%v: %v, want the learner's error", names, err)
		}
	}
}
