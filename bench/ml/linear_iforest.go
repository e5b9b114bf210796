package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/iforest"
	"github.com/plinthai/plinth/ml/linear"
	"github.com/plinthai/plinth/ml/metrics"
)

// quality is one side's figures on one data set.
type quality struct {
	FitS       float64 `json:"fit_s"`
	FitCPUS    float64 `json:"fit_cpu_s"`
	ROCAUC     float64 `json:"roc_auc"`
	AUPRC      float64 `json:"auprc"`
	Iterations int     `json:"iterations,omitempty"`
	ROCAUCSD   float64 `json:"roc_auc_sd,omitempty"`
	Error      string  `json:"error,omitempty"` // set by the peer on a bad command
}

// row compares Plinth and the peer on one data set and learner. Fits
// alternate between the sides one by one (see pair); fit times are each
// side's median over the pairs and the ratios the median of the per-pair
// ratios, so that load from other work on the machine falls on both sides
// alike. Quality is the first fit's (logistic regression is deterministic)
// or the mean over seeds (isolation forest).
type row struct {
	Model      string  `json:"model"`
	Dataset    string  `json:"dataset"`
	Split      string  `json:"split"`
	Encoding   string  `json:"encoding"`
	TrainRows  int     `json:"train_rows"`
	Features   int     `json:"features"`
	Plinth     quality `json:"plinth"`
	Sklearn    quality `json:"sklearn"`
	FitRatio   float64 `json:"fit_time_ratio"`     // wall, Plinth / scikit-learn; ≤ 1 is the target
	CPURatio   float64 `json:"fit_cpu_time_ratio"` // CPU time, Plinth / scikit-learn
	AUCDelta   float64 `json:"roc_auc_delta"`      // Plinth − scikit-learn
	TargetsMet bool    `json:"targets_met"`
	Pairs      []pair  `json:"pairs"`
}

// pair is one fit by each side, back to back (the side that goes first
// alternates from pair to pair).
type pair struct {
	PlinthS     float64 `json:"plinth_fit_s"`
	SklearnS    float64 `json:"sklearn_fit_s"`
	PlinthCPUS  float64 `json:"plinth_fit_cpu_s"`
	SklearnCPUS float64 `json:"sklearn_fit_cpu_s"`
}

type linearIForestResult struct {
	Env     environment `json:"env"`
	Peer    string      `json:"peer"`
	Timing  string      `json:"timing"`
	Targets string      `json:"targets"`
	Rows    []row       `json:"rows"`
}

func linearIForest(o options, w io.Writer) (*linearIForestResult, error) {
	runtime.GOMAXPROCS(o.threads)
	dir, err := os.MkdirTemp("", "plinth-bench-ml")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	lin, err := loadSplits(o.datasets, true)
	if err != nil {
		return nil, err
	}
	iso, err := loadSplits(o.datasets, false)
	if err != nil {
		return nil, err
	}
	// Elec2's label is price direction, not an anomaly: no isolation forest.
	iso = slices.DeleteFunc(iso, func(s split) bool { return s.Name == "elec2" })
	if err := writeSplits(dir, lin, iso); err != nil {
		return nil, err
	}
	peer, err := startPeer(o, dir)
	if err != nil {
		return nil, err
	}
	res, err := compareAll(o, lin, iso, peer)
	if cerr := peer.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	printRows(w, res)
	return res, nil
}

// compareAll fits both sides on every split, alternating fit by fit.
func compareAll(o options, lin, iso []split, peer *peerProc) (*linearIForestResult, error) {
	res := &linearIForestResult{Env: env(o.threads), Peer: peer.name,
		Timing:  "fits alternate between the sides one by one (the first side alternates too); fit_s per side is the median over the pairs, the ratios the median of the per-pair ratios",
		Targets: "logistic regression: ROC-AUC ≥ sklearn − 0.002; isolation forest: |ΔROC-AUC| ≤ 0.01; both: fit time ≤ 1.0× sklearn, wall and CPU"}
	for _, s := range lin {
		r, err := compareLinear(s, o, peer)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, r)
	}
	for _, s := range iso {
		r, err := compareIForest(s, o, peer)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, r)
	}
	return res, nil
}

func newRow(model string, s split) row {
	return row{Model: model, Dataset: s.Name, Split: s.Description, Encoding: s.Encoding,
		TrainRows: s.Train.NumRows(), Features: s.Train.NumCols()}
}

// compareLinear runs o.repeats pairs of logistic regression fits.
func compareLinear(s split, o options, peer *peerProc) (row, error) {
	r := newRow("logistic regression", s)
	for rep := range o.repeats {
		var sk quality
		var m *linear.Model
		var p pair
		err := inOrder(rep%2 == 1, func() (err error) {
			sk, err = peer.fit("linear", s.Name)
			return err
		}, func() (err error) {
			p.PlinthS, p.PlinthCPUS, err = timed(func() (err error) {
				m, err = linear.Fit(s.Train, s.YTrain, linear.Config{C: 1, Workers: o.threads})
				return err
			})
			return err
		})
		if err != nil {
			return r, fmt.Errorf("%s: %w", s.Name, err)
		}
		p.SklearnS, p.SklearnCPUS = sk.FitS, sk.FitCPUS
		r.Pairs = append(r.Pairs, p)
		if rep == 0 {
			q, err := scoreModel(m.PredictProba, s)
			if err != nil {
				return r, err
			}
			q.Iterations = m.Iter
			r.Plinth, r.Sklearn = q, sk
		}
	}
	summarise(&r)
	r.TargetsMet = r.AUCDelta >= -0.002 && r.FitRatio <= 1 && r.CPURatio <= 1
	return r, nil
}

// compareIForest runs one pair of isolation forest fits per seed 0…o.seeds-1.
func compareIForest(s split, o options, peer *peerProc) (row, error) {
	r := newRow("isolation forest", s)
	var pa, sa []float64
	for seed := range o.seeds {
		var sk, q quality
		var m *iforest.Model
		var p pair
		err := inOrder(seed%2 == 1, func() (err error) {
			sk, err = peer.fit("iforest", s.Name, strconv.Itoa(seed))
			return err
		}, func() (err error) {
			p.PlinthS, p.PlinthCPUS, err = timed(func() (err error) {
				m, err = iforest.Fit(s.Train, iforest.Config{NumTrees: 100, SampleSize: 256, Seed: uint64(seed), Workers: o.threads})
				return err
			})
			return err
		})
		if err != nil {
			return r, fmt.Errorf("%s: %w", s.Name, err)
		}
		if q, err = scoreModel(m.Score, s); err != nil {
			return r, err
		}
		p.SklearnS, p.SklearnCPUS = sk.FitS, sk.FitCPUS
		r.Pairs = append(r.Pairs, p)
		pa, sa = append(pa, q.ROCAUC), append(sa, sk.ROCAUC)
		r.Plinth.AUPRC += q.AUPRC / float64(o.seeds)
		r.Sklearn.AUPRC += sk.AUPRC / float64(o.seeds)
	}
	r.Plinth.ROCAUC, r.Plinth.ROCAUCSD = meanSD(pa)
	r.Sklearn.ROCAUC, r.Sklearn.ROCAUCSD = meanSD(sa)
	summarise(&r)
	r.TargetsMet = math.Abs(r.AUCDelta) <= 0.01 && r.FitRatio <= 1 && r.CPURatio <= 1
	return r, nil
}

// inOrder runs peer then plinth, or plinth then peer when plinthFirst.
func inOrder(plinthFirst bool, peer, plinth func() error) error {
	if plinthFirst {
		peer, plinth = plinth, peer
	}
	if err := peer(); err != nil {
		return err
	}
	return plinth()
}

// timed returns the wall and process CPU seconds fn took.
func timed(fn func() error) (wall, cpu float64, err error) {
	t0, c0 := time.Now(), cpuSeconds()
	err = fn()
	return time.Since(t0).Seconds(), cpuSeconds() - c0, err
}

// summarise sets r's fit times (median per side) and ratios (median of the
// per-pair ratios) and the AUC difference.
func summarise(r *row) {
	col := func(f func(pair) float64) float64 {
		v := make([]float64, len(r.Pairs))
		for j, x := range r.Pairs {
			v[j] = f(x)
		}
		return median(v)
	}
	r.Plinth.FitS = col(func(x pair) float64 { return x.PlinthS })
	r.Sklearn.FitS = col(func(x pair) float64 { return x.SklearnS })
	r.Plinth.FitCPUS = col(func(x pair) float64 { return x.PlinthCPUS })
	r.Sklearn.FitCPUS = col(func(x pair) float64 { return x.SklearnCPUS })
	r.FitRatio = col(func(x pair) float64 { return x.PlinthS / x.SklearnS })
	r.CPURatio = col(func(x pair) float64 { return x.PlinthCPUS / x.SklearnCPUS })
	r.AUCDelta = r.Plinth.ROCAUC - r.Sklearn.ROCAUC
}

// median returns the middle value of v (the mean of the middle two when
// len(v) is even); v is reordered.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func writeSplits(dir string, lin, iso []split) error {
	var list bytes.Buffer
	for _, group := range []struct {
		task   string
		splits []split
	}{{"linear", lin}, {"iforest", iso}} {
		for _, s := range group.splits {
			if err := writeCSV(filepath.Join(dir, s.Name+"."+group.task+".train.csv"), s.Train, s.YTrain); err != nil {
				return err
			}
			if err := writeCSV(filepath.Join(dir, s.Name+"."+group.task+".test.csv"), s.Test, s.YTest); err != nil {
				return err
			}
		}
	}
	for _, s := range lin {
		tasks := "linear"
		if slices.ContainsFunc(iso, func(x split) bool { return x.Name == s.Name }) {
			tasks += ",iforest"
		}
		fmt.Fprintf(&list, "%s %s\n", s.Name, tasks)
	}
	return os.WriteFile(filepath.Join(dir, "datasets.txt"), list.Bytes(), 0o644)
}

// peerProc is the running scikit-learn peer, answering one fit per command.
type peerProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	name string
}

// startPeer starts the peer on the splits in dir and reads its greeting
// (after it has loaded every split).
func startPeer(o options, dir string) (*peerProc, error) {
	cmd := exec.Command(o.python, o.peer, dir)
	t := strconv.Itoa(o.threads)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+t, "OPENBLAS_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start scikit-learn peer: %w", err)
	}
	p := &peerProc{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	var hello struct{ Peer string }
	if err := p.read(&hello); err != nil {
		return nil, errors.Join(err, p.close())
	}
	p.name = hello.Peer
	return p, nil
}

// fit sends one command and returns the peer's answer.
func (p *peerProc) fit(args ...string) (quality, error) {
	var q quality
	line := append([]byte(nil), args[0]...)
	for _, a := range args[1:] {
		line = append(append(line, ' '), a...)
	}
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		return q, fmt.Errorf("scikit-learn peer: %w", err)
	}
	if err := p.read(&q); err != nil {
		return q, err
	}
	if q.Error != "" {
		return q, fmt.Errorf("scikit-learn peer: %s", q.Error)
	}
	return q, nil
}

func (p *peerProc) read(v any) error {
	if !p.out.Scan() {
		return fmt.Errorf("scikit-learn peer ended early: %v", p.out.Err())
	}
	if err := json.Unmarshal(p.out.Bytes(), v); err != nil {
		return fmt.Errorf("scikit-learn peer output %q: %w", p.out.Bytes(), err)
	}
	return nil
}

// close asks the peer to quit and waits for it.
func (p *peerProc) close() error {
	_, _ = io.WriteString(p.in, "quit\n")
	_ = p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("scikit-learn peer: %w", err)
	}
	return nil
}

// scoreModel scores s's test rows with predict and measures ROC-AUC and
// AUPRC against its labels.
func scoreModel(predict func(x *frame.Frame, dst []float64) ([]float64, error), s split) (quality, error) {
	p, err := predict(s.Test, nil)
	if err != nil {
		return quality{}, err
	}
	auc, err := metrics.ROCAUC(s.YTest, p)
	if err != nil {
		return quality{}, err
	}
	ap, err := metrics.AveragePrecision(s.YTest, p)
	return quality{ROCAUC: auc, AUPRC: ap}, err
}

// meanSD returns the mean and population standard deviation of v.
func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}

func printRows(w io.Writer, res *linearIForestResult) {
	fmt.Fprintf(w, "Plinth vs %s, %d thread(s) each, fits alternating; times: median per side; ratios: median of per-pair ratios\n", res.Peer, res.Env.Threads)
	fmt.Fprintf(w, "%-20s %-22s %6s %8s %8s %6s %6s %7s %7s %7s %7s %s\n", "model", "dataset", "pairs", "fit s", "sk fit s", "wall×", "cpu×", "AUC", "sk AUC", "AUPRC", "sk AP", "met")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%-20s %-22s %6d %8.4f %8.4f %6.2f %6.2f %7.4f %7.4f %7.4f %7.4f %v\n", r.Model, r.Dataset, len(r.Pairs),
			r.Plinth.FitS, r.Sklearn.FitS, r.FitRatio, r.CPURatio, r.Plinth.ROCAUC, r.Sklearn.ROCAUC, r.Plinth.AUPRC, r.Sklearn.AUPRC, r.TargetsMet)
	}
}
