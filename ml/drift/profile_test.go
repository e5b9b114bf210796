package drift

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/frame"
)

func sampleProfile(t testing.TB) *Profile {
	rng := rand.New(rand.NewPCG(1, 2))
	codes := make([]float32, 500)
	for i := range codes {
		codes[i] = float32(rng.IntN(4))
	}
	f, _ := frame.New([]string{"x", "c"}, [][]float32{normals(rng, 500, 0), codes})
	p, err := NewProfile(f, ProfileConfig{Bins: 20, PSIBins: 5, Categories: map[string]int{"c": 4}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfileJSONRoundTrip(t *testing.T) {
	p := sampleProfile(t)
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got, cmpopts.IgnoreUnexported(Feature{})); diff != "" {
		t.Errorf("profile changed by JSON (-want +got):\n%s", diff)
	}
	if n := len(got.Features[0].Groups); n != 5 {
		t.Errorf("PSI groups: got %d, want 5", n)
	}
}

func TestParseProfileRejects(t *testing.T) {
	tests := map[string]string{
		"not json":         `{`,
		"no features":      `{"features":[]}`,
		"unknown kind":     `{"features":[{"name":"x","kind":"text","counts":[1]}]}`,
		"edges unsorted":   `{"features":[{"name":"x","kind":"numeric","edges":[2,1],"counts":[1,1,1],"groups":[0]}]}`,
		"counts mismatch":  `{"features":[{"name":"x","kind":"numeric","edges":[1],"counts":[1],"groups":[0]}]}`,
		"negative count":   `{"features":[{"name":"x","kind":"numeric","edges":[1],"counts":[1,-1],"groups":[0]}]}`,
		"groups past end":  `{"features":[{"name":"x","kind":"numeric","edges":[1],"counts":[1,1],"groups":[0,5]}]}`,
		"no groups":        `{"features":[{"name":"x","kind":"numeric","edges":[1],"counts":[1,1]}]}`,
		"category counts":  `{"features":[{"name":"c","kind":"category","categories":3,"counts":[1,1]}]}`,
		"huge categories":  `{"features":[{"name":"c","kind":"category","categories":99999999,"counts":[1]}]}`,
		"negative missing": `{"features":[{"name":"c","kind":"category","categories":1,"counts":[1,1],"missing":-2}]}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseProfile([]byte(in)); !errors.Is(err, ErrInput) {
				t.Errorf("got %v, want ErrInput", err)
			}
		})
	}
}

func FuzzParseProfile(f *testing.F) {
	data, _ := json.Marshal(sampleProfile(f))
	f.Add(data)
	f.Add([]byte(`{"features":[{"name":"c","kind":"category","categories":2,"counts":[1,1,0]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			return
		}
		// Anything accepted must be usable.
		names := make([]string, len(p.Features))
		cols := make([][]float32, len(p.Features))
		for i, ft := range p.Features {
			names[i] = ft.Name
			cols[i] = []float32{0, 1.5, -3, 1e30}
		}
		fr, err := frame.New(names, cols)
		if err != nil {
			t.Fatal(err)
		}
		w := NewWindow(p)
		_ = w.Add(fr)
		_ = w.Compare()
	})
}
