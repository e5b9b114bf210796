package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/plinthai/plinth/ml/drift"
	"github.com/plinthai/plinth/ml/frame"
)

// refRows is the reference sample per feature the profile is built from.
const refRows = 20000

type driftResult struct {
	Env         environment `json:"env"`
	Peer        string      `json:"peer"`
	Method      string      `json:"method"`
	Features    int         `json:"features"`
	LiveRows    int         `json:"live_rows"`
	RefRows     int         `json:"reference_rows_per_feature"`
	Bins        int         `json:"fine_bins"`
	Workers     int         `json:"workers"`
	ProfileS    float64     `json:"profile_build_s"`
	StreamS     float64     `json:"stream_s"`
	CompareS    float64     `json:"compare_s"`
	TotalS      float64     `json:"psi_ks_total_s"`
	StreamCPUS  float64     `json:"stream_cpu_s"`
	GenerateS   float64     `json:"generate_cpu_s"`
	CountS      float64     `json:"count_cpu_s"`
	Uncontended float64     `json:"estimated_uncontended_s"`
	PeakRSSMiB  float64     `json:"peak_rss_mib"`
	WindowBytes int         `json:"window_bytes_per_worker"`
	ChunkBytes  int         `json:"chunk_bytes_per_worker"`
	Detected    string      `json:"drifted_flagged"`
	FalseAlarm  string      `json:"undrifted_flagged"`
	MaxKSBound  float64     `json:"max_ks_bound"`
	TargetMet   bool        `json:"target_met"`
}

// gen is a splitmix64 stream; value returns an approximately normal number
// (Irwin–Hall sum of four 16-bit uniforms, standardised) from one draw.
type gen struct{ s uint64 }

func (g *gen) next() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const ihScale = 1 / (65536 * 0.5773502691896258) // sd of a sum of four U(0,1)

func (g *gen) value() float32 {
	r := g.next()
	s := int64(r&0xffff) + int64(r>>16&0xffff) + int64(r>>32&0xffff) + int64(r>>48)
	return float32(float64(s-2*65535) * ihScale)
}

// shape gives feature j's live distribution: every tenth feature shifted by
// 0.1 sd, the next one scaled by 1.2, the rest unchanged.
func shape(j int) (shift, scale float32, drifted bool) {
	switch j % 10 {
	case 0:
		return 0.1, 1, true
	case 1:
		return 0, 1.2, true
	}
	return 0, 1, false
}

func driftBench(o options, w io.Writer) (*driftResult, error) {
	workers := runtime.NumCPU()
	res := &driftResult{Env: env(workers), Peer: "none (no peer required for drift)",
		Method:   "PSI on 10 reference-decile bins; KS from fixed fine quantile bins of the reference (exact KS lies in [KS, KS+max bin share]); live rows streamed in chunks into per-worker windows, merged",
		Features: o.features, LiveRows: o.rows, RefRows: refRows, Bins: o.bins, Workers: workers}
	t0 := time.Now()
	p, err := buildProfile(o, workers)
	if err != nil {
		return nil, err
	}
	res.ProfileS = time.Since(t0).Seconds()
	t1, c1 := time.Now(), cpuSeconds()
	win, gen, count, err := stream(o, p, workers)
	if err != nil {
		return nil, err
	}
	res.StreamS, res.StreamCPUS = time.Since(t1).Seconds(), cpuSeconds()-c1
	res.GenerateS, res.CountS = gen, count
	res.Uncontended = (gen + count) / float64(workers)
	t2 := time.Now()
	results := win.Compare()
	res.CompareS = time.Since(t2).Seconds()
	res.TotalS = res.StreamS + res.CompareS
	res.WindowBytes = windowBytes(p)
	res.ChunkBytes = 4 * o.features * o.chunk
	res.PeakRSSMiB = peakRSSMiB()
	flagSummary(res, results)
	res.TargetMet = res.TotalS <= 10 && res.PeakRSSMiB < 256
	fmt.Fprintf(w, "drift: %d features × %d rows, %d workers: profile %.2fs; stream+count %.2fs wall, %.2f CPU-s (per-thread CPU: generate %.2fs, count %.2fs; on %d idle cores ≈ %.2fs); compare %.3fs; total %.2fs (target ≤ 10 s: %v); peak RSS %.0f MiB; window %d KiB/worker; drifted flagged %s, undrifted flagged %s; max KS bound %.4f\n",
		o.features, o.rows, workers, res.ProfileS, res.StreamS, res.StreamCPUS, gen, count, workers, res.Uncontended, res.CompareS, res.TotalS, res.TargetMet,
		res.PeakRSSMiB, res.WindowBytes>>10, res.Detected, res.FalseAlarm, res.MaxKSBound)
	return res, nil
}

// buildProfile bins refRows reference values per feature, one column at a
// time, so the reference never sits in memory whole.
func buildProfile(o options, workers int) (*drift.Profile, error) {
	p := &drift.Profile{Features: make([]drift.Feature, o.features)}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			col := make([]float32, refRows)
			for j := k; j < o.features; j += workers {
				g := gen{s: uint64(j)*7919 + 1}
				for i := range col {
					col[i] = g.value()
				}
				p.Features[j], errs[k] = drift.NumericFeature(fmt.Sprintf("f%d", j), col, o.bins, 10)
				if errs[k] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// stream generates the live rows chunk by chunk on each worker and counts
// them into that worker's window; the windows are merged at the end.
func stream(o options, p *drift.Profile, workers int) (*drift.Window, float64, float64, error) {
	wins := make([]*drift.Window, workers)
	genS, countS := make([]float64, workers), make([]float64, workers)
	errs := make([]error, workers)
	chunks := (o.rows + o.chunk - 1) / o.chunk
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wins[k] = drift.NewWindow(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			genS[k], countS[k], errs[k] = worker(o, p, wins[k], k, workers, chunks)
		}()
	}
	wg.Wait()
	var g, c float64
	for k := range wins {
		if errs[k] != nil {
			return nil, 0, 0, errs[k]
		}
		g, c = g+genS[k], c+countS[k]
		if k > 0 {
			if err := wins[0].Merge(wins[k]); err != nil {
				return nil, 0, 0, err
			}
		}
	}
	return wins[0], g, c, nil
}

// worker generates and counts its share of the chunks. It keeps its OS
// thread so that the thread's CPU time splits into generating and counting
// even when other processes compete for the cores.
func worker(o options, p *drift.Profile, win *drift.Window, k, workers, chunks int) (genS, countS float64, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	names := make([]string, o.features)
	cols := make([][]float32, o.features)
	flat := make([]float32, o.features*o.chunk)
	for j := range cols {
		names[j] = p.Features[j].Name
		cols[j] = flat[j*o.chunk : (j+1)*o.chunk]
	}
	g := gen{s: uint64(k+1) << 40}
	for c := k; c < chunks; c += workers {
		n := min(o.chunk, o.rows-c*o.chunk)
		t0 := threadCPU()
		for j := range cols {
			cols[j] = cols[j][:n]
			shift, scale, _ := shape(j)
			for i := range cols[j] {
				cols[j][i] = g.value()*scale + shift
			}
		}
		f, err := frame.New(names, cols)
		if err != nil {
			return 0, 0, err
		}
		t1 := threadCPU()
		if err := win.Add(f); err != nil {
			return 0, 0, err
		}
		genS += t1 - t0
		countS += threadCPU() - t1
	}
	return genS, countS, nil
}

func flagSummary(res *driftResult, results []drift.Result) {
	var drifted, flagged, clean, alarms int
	for j, r := range results {
		_, _, d := shape(j)
		hit := r.KSPValue < 0.001 || r.PSI > 0.1
		if d {
			drifted++
			if hit {
				flagged++
			}
		} else {
			clean++
			if hit {
				alarms++
			}
		}
		res.MaxKSBound = math.Max(res.MaxKSBound, r.KSBound)
	}
	res.Detected = fmt.Sprintf("%d/%d (KS p < 0.001 or PSI > 0.1)", flagged, drifted)
	res.FalseAlarm = fmt.Sprintf("%d/%d", alarms, clean)
}

func windowBytes(p *drift.Profile) int {
	n := 0
	for i := range p.Features {
		n += 8 * (p.Features[i].NumBins() + 1)
	}
	return n
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rusageThread is Linux's RUSAGE_THREAD: the calling thread only.
const rusageThread = 1

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
