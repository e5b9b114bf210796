package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/plinthai/plinth/ml/frame"
)

// Defaults and limits for profiles.
const (
	DefaultBins    = 200 // fine bins per numeric feature (the KS resolution)
	DefaultPSIBins = 10  // PSI bins per numeric feature, groups of fine bins
	MaxBins        = 1 << 16
	MaxFeatures    = 1 << 16
)

// Kinds of feature.
const (
	Numeric     = "numeric"
	Categorical = "category"
)

// Feature is the reference histogram of one input column.
//
// A numeric feature has ascending, distinct cut points Edges: bin 0 holds
// x < Edges[0], bin k holds Edges[k−1] ≤ x < Edges[k], the last bin holds
// x ≥ Edges[len−1]. The edges are reference quantiles, so each bin holds
// about 1/Bins of the reference. A categorical feature holds the codes
// 0…Categories−1 in bins of the same index and any other value in a last
// "unknown" bin. Missing values (NaN) are counted apart in both.
type Feature struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Edges      []float64 `json:"edges,omitempty"`
	Categories int       `json:"categories,omitempty"`
	// Counts holds the reference count of every bin.
	Counts  []float64 `json:"counts"`
	Missing float64   `json:"missing"`
	// Groups lists the first fine bin of each PSI bin (numeric only).
	Groups []int `json:"groups,omitempty"`

	index binIndex
}

// Profile is the reference profile a model artifact carries (in its header's
// Reference field, as JSON): one histogram per input feature. A Profile is
// read-only once built; concurrent reads are safe.
type Profile struct {
	Features []Feature `json:"features"`
}

// ProfileConfig says how to bin a reference frame. The zero value bins
// every column as numeric with DefaultBins and DefaultPSIBins.
type ProfileConfig struct {
	Bins, PSIBins int
	// Categories maps a categorical column's name to its number of codes.
	Categories map[string]int
}

// NewProfile builds the reference profile of every column of f.
func NewProfile(f *frame.Frame, cfg ProfileConfig) (*Profile, error) {
	if f == nil || f.NumCols() == 0 || f.NumRows() == 0 {
		return nil, fmt.Errorf("%w: empty reference frame", ErrInput)
	}
	p := &Profile{}
	for j, name := range f.Names {
		var ft Feature
		var err error
		if k, ok := cfg.Categories[name]; ok {
			ft, err = CategoricalFeature(name, f.Cols[j], k)
		} else {
			ft, err = NumericFeature(name, f.Cols[j], cfg.Bins, cfg.PSIBins)
		}
		if err != nil {
			return nil, err
		}
		p.Features = append(p.Features, ft)
	}
	return p, nil
}

// NumericFeature builds a numeric reference histogram of values with at most
// bins quantile bins grouped into psiBins PSI bins (zero means the
// defaults). Ties in the reference make fewer, wider bins.
func NumericFeature(name string, values []float32, bins, psiBins int) (Feature, error) {
	if bins == 0 {
		bins = DefaultBins
	}
	if psiBins == 0 {
		psiBins = DefaultPSIBins
	}
	if bins < 1 || bins > MaxBins || psiBins < 1 {
		return Feature{}, fmt.Errorf("%w: feature %q: %d bins, %d PSI bins, want 1 to %d and ≥ 1", ErrInput, name, bins, psiBins, MaxBins)
	}
	sorted := make([]float64, 0, len(values))
	for i, v := range values {
		if math.IsInf(float64(v), 0) {
			return Feature{}, fmt.Errorf("%w: feature %q row %d is infinite", ErrInput, name, i)
		}
		if v == v {
			sorted = append(sorted, float64(v))
		}
	}
	slices.Sort(sorted)
	ft := Feature{Name: name, Kind: Numeric, Edges: quantileEdges(sorted, bins)}
	ft.Counts = make([]float64, len(ft.Edges)+1)
	ft.index = newBinIndex(ft.Edges)
	for _, v := range values {
		if v != v {
			ft.Missing++
			continue
		}
		ft.Counts[ft.index.bin(float64(v))]++
	}
	ft.Groups = groupBins(ft.Counts, psiBins)
	return ft, nil
}

// quantileEdges returns the distinct values at positions ⌊k·n/bins⌋,
// k = 1…bins−1, of sorted, above its minimum.
func quantileEdges(sorted []float64, bins int) []float64 {
	var edges []float64
	for k := 1; k < bins && len(sorted) > 0; k++ {
		e := sorted[k*len(sorted)/bins]
		if e > sorted[0] && (len(edges) == 0 || e > edges[len(edges)-1]) {
			edges = append(edges, e)
		}
	}
	return edges
}

// groupBins splits the fine bins into at most g contiguous groups of about
// equal reference mass and returns each group's first bin.
func groupBins(counts []float64, g int) []int {
	var total float64
	for _, c := range counts {
		total += c
	}
	groups := []int{0}
	var cum float64
	for k, c := range counts[:len(counts)-1] {
		cum += c
		if len(groups) < g && cum >= total*float64(len(groups))/float64(g) {
			groups = append(groups, k+1)
		}
	}
	return groups
}

// CategoricalFeature builds a categorical reference histogram of codes in
// [0, categories); other values count as unknown.
func CategoricalFeature(name string, codes []float32, categories int) (Feature, error) {
	if categories < 1 || categories > MaxBins {
		return Feature{}, fmt.Errorf("%w: feature %q has %d categories, want 1 to %d", ErrInput, name, categories, MaxBins)
	}
	ft := Feature{Name: name, Kind: Categorical, Categories: categories, Counts: make([]float64, categories+1)}
	for _, v := range codes {
		if v != v {
			ft.Missing++
			continue
		}
		ft.Counts[ft.bin(float64(v))]++
	}
	return ft, nil
}

// NumBins returns the number of bins, not counting missing.
func (ft *Feature) NumBins() int { return len(ft.Counts) }

// bin returns the bin of a non-NaN value.
func (ft *Feature) bin(v float64) int {
	if ft.Kind == Categorical {
		c := int(v)
		if float64(c) != v || c < 0 || c >= ft.Categories {
			return ft.Categories
		}
		return c
	}
	return ft.index.bin(v)
}

// MarshalJSON encodes the profile for an artifact header.
func (p *Profile) MarshalJSON() ([]byte, error) {
	type plain Profile
	return json.Marshal((*plain)(p))
}

// ParseProfile decodes and validates a profile from JSON (for example an
// artifact header's Reference). Input is untrusted: sizes are bounded by
// MaxFeatures and MaxBins, and inconsistent histograms are an error.
func ParseProfile(data []byte) (*Profile, error) {
	type plain Profile
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: profile: %v", ErrInput, err)
	}
	if len(p.Features) == 0 || len(p.Features) > MaxFeatures {
		return nil, fmt.Errorf("%w: profile has %d features, want 1 to %d", ErrInput, len(p.Features), MaxFeatures)
	}
	for i := range p.Features {
		if err := p.Features[i].validate(); err != nil {
			return nil, err
		}
	}
	return (*Profile)(&p), nil
}

// validate checks a decoded feature and builds its bin index.
func (ft *Feature) validate() error {
	bad := func(why string, args ...any) error {
		return fmt.Errorf("%w: feature %q: %s", ErrInput, ft.Name, fmt.Sprintf(why, args...))
	}
	if !(ft.Missing >= 0) || math.IsInf(ft.Missing, 0) {
		return bad("missing count %v", ft.Missing)
	}
	for k, c := range ft.Counts {
		if !(c >= 0) || math.IsInf(c, 0) {
			return bad("count %d is %v", k, c)
		}
	}
	switch ft.Kind {
	case Categorical:
		if ft.Categories < 1 || ft.Categories > MaxBins || len(ft.Counts) != ft.Categories+1 || len(ft.Edges) != 0 || len(ft.Groups) != 0 {
			return bad("%d categories with %d counts", ft.Categories, len(ft.Counts))
		}
	case Numeric:
		if len(ft.Edges) >= MaxBins || len(ft.Counts) != len(ft.Edges)+1 || ft.Categories != 0 {
			return bad("%d edges with %d counts", len(ft.Edges), len(ft.Counts))
		}
		for k, e := range ft.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) || (k > 0 && e <= ft.Edges[k-1]) {
				return bad("edges not finite and ascending at %d", k)
			}
		}
		if len(ft.Groups) == 0 || ft.Groups[0] != 0 {
			return bad("PSI groups must start at bin 0")
		}
		for k, g := range ft.Groups {
			if g >= len(ft.Counts) || (k > 0 && g <= ft.Groups[k-1]) {
				return bad("PSI groups not ascending within %d bins", len(ft.Counts))
			}
		}
		ft.index = newBinIndex(ft.Edges)
	default:
		return bad("unknown kind %q", ft.Kind)
	}
	return nil
}
