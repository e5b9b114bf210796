package view

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// View is a compiled feature view: its declaration resolved into the
// fixed layout the hot paths index by position. It is immutable and safe
// for concurrent use.
type View struct {
	Name     string
	Source   string
	Entity   string
	TTL      time.Duration
	Lateness time.Duration

	names      []string
	fields     []string // event fields read, one column each
	transforms []transform
	windows    []win
	feats      []feat
}

// win is one distinct window: a ring of slots buckets of width ns.
type win struct {
	dur   int64 // 0: lifetime, one bucket that never expires
	width int64
	slots int
	feats []int // indexes into View.feats, in declaration order
}

// feat is one feature resolved to positions.
type feat struct {
	agg  string
	col  int // input column, -1 for count of events
	win  int // index into View.windows
	n    int // last_n
	out  int // first output position
	hash bool
}

// Names returns the output feature names, in order; last_n features
// produce <name>_1 (the most recent) to <name>_<n>. The slice is shared:
// do not modify it.
func (v *View) Names() []string { return v.names }

// Width is the number of output values per entity.
func (v *View) Width() int { return len(v.names) }

// MaxWindow is the longest window (0 when all are lifetime windows).
func (v *View) MaxWindow() time.Duration {
	var m int64
	for _, w := range v.windows {
		m = max(m, w.dur)
	}
	return time.Duration(m)
}

// Compile checks a declaration and resolves it into a View.
func Compile(d Def) (*View, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	v := &View{Name: d.Name, Source: d.Source, Entity: d.Entity, TTL: time.Duration(d.TTL), Lateness: DefaultLateness}
	if d.AllowedLateness != nil {
		v.Lateness = time.Duration(*d.AllowedLateness)
	}
	slots := d.Slots
	if slots == 0 {
		slots = DefaultSlots
	}
	columns := v.layoutColumns(&d)
	if err := v.compileTransforms(d.Transforms, columns); err != nil {
		return nil, err
	}
	var errs []error
	seen := map[string]bool{}
	for i := range d.Features {
		f := &d.Features[i]
		if seen[f.Name] {
			errs = append(errs, fmt.Errorf("feature %q declared twice", f.Name))
		}
		seen[f.Name] = true
		if err := f.check(columns); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, v.addFeature(f, slots, columns))
	}
	return v, errors.Join(errs...)
}

// layoutColumns numbers the input columns: a row holds the event fields
// the view reads, then the transform outputs, in declaration order.
func (v *View) layoutColumns(d *Def) map[string]int {
	outputs := map[string]bool{}
	for _, t := range d.Transforms {
		outputs[t.Name] = true
	}
	columns := map[string]int{}
	use := func(name string) {
		if _, ok := columns[name]; !ok && name != "" && !outputs[name] {
			columns[name] = len(v.fields)
			v.fields = append(v.fields, name)
		}
	}
	for _, t := range d.Transforms {
		use(t.Field)
	}
	for _, f := range d.Features {
		use(f.Field)
	}
	for i, t := range d.Transforms {
		columns[t.Name] = len(v.fields) + i
	}
	return columns
}

func (v *View) addFeature(f *FeatureDef, slots int, columns map[string]int) error {
	w, err := v.window(int64(f.Window), slots)
	if err != nil {
		return fmt.Errorf("feature %q: %w", f.Name, err)
	}
	ft := feat{agg: f.Agg, col: -1, win: w, n: f.N, out: len(v.names), hash: f.Agg == AggDistinct}
	if f.Field != "" {
		ft.col = columns[f.Field]
	}
	v.feats = append(v.feats, ft)
	v.windows[w].feats = append(v.windows[w].feats, len(v.feats)-1)
	if f.Agg != AggLastN {
		v.names = append(v.names, f.Name)
		return nil
	}
	for i := 1; i <= f.N; i++ {
		v.names = append(v.names, fmt.Sprintf("%s_%d", f.Name, i))
	}
	return nil
}

// window returns the index of the window of duration dur, adding it.
func (v *View) window(dur int64, slots int) (int, error) {
	if i := slices.IndexFunc(v.windows, func(w win) bool { return w.dur == dur }); i >= 0 {
		return i, nil
	}
	w := win{dur: dur, slots: 1, width: math.MaxInt64}
	if dur > 0 {
		w.slots = slots
		w.width = dur / int64(slots)
		if w.width <= 0 || dur%int64(slots) != 0 {
			return 0, fmt.Errorf("window %s does not divide into %d buckets", time.Duration(dur), slots)
		}
	}
	v.windows = append(v.windows, w)
	return len(v.windows) - 1, nil
}

// HasLifetime reports whether some feature has no window.
func (v *View) HasLifetime() bool {
	return slices.ContainsFunc(v.windows, func(w win) bool { return w.dur == 0 })
}
