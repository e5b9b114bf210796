package main

import (
	"bytes"
	"encoding/json"
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
}

// row compares Plinth and the peer on one data set and learner.
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
}

type linearIForestResult struct {
	Env     environment `json:"env"`
	Peer    string      `json:"peer"`
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
	peer, err := runPeer(o, dir)
	if err != nil {
		return nil, err
	}
	res := &linearIForestResult{Env: env(o.threads), Peer: peer.Peer,
		Targets: "logistic regression: ROC-AUC ≥ sklearn − 0.002; isolation forest: |ΔROC-AUC| ≤ 0.01; both: fit time ≤ 1.0× sklearn, wall and CPU"}
	for _, s := range lin {
		q, err := fitLinear(s, o)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, compare("logistic regression", s, q, peer.Linear[s.Name]))
	}
	for _, s := range iso {
		q, err := fitIForest(s, o)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, compare("isolation forest", s, q, peer.IForest[s.Name]))
	}
	printRows(w, res)
	return res, nil
}

func compare(model string, s split, p, sk quality) row {
	r := row{Model: model, Dataset: s.Name, Split: s.Description, Encoding: s.Encoding,
		TrainRows: s.Train.NumRows(), Features: s.Train.NumCols(), Plinth: p, Sklearn: sk,
		FitRatio: p.FitS / sk.FitS, CPURatio: p.FitCPUS / sk.FitCPUS, AUCDelta: p.ROCAUC - sk.ROCAUC}
	fast := r.FitRatio <= 1 && r.CPURatio <= 1
	if model == "logistic regression" {
		r.TargetsMet = r.AUCDelta >= -0.002 && fast
	} else {
		r.TargetsMet = r.AUCDelta >= -0.01 && r.AUCDelta <= 0.01 && fast
	}
	return r
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

type peerResult struct {
	Peer    string             `json:"peer"`
	Linear  map[string]quality `json:"linear"`
	IForest map[string]quality `json:"iforest"`
}

func runPeer(o options, dir string) (*peerResult, error) {
	cmd := exec.Command(o.python, o.peer, dir, strconv.Itoa(o.repeats), strconv.Itoa(o.seeds))
	t := strconv.Itoa(o.threads)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+t, "OPENBLAS_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scikit-learn peer: %w", err)
	}
	var p peerResult
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("scikit-learn peer output: %w", err)
	}
	return &p, nil
}

func fitLinear(s split, o options) (quality, error) {
	var times, cpu []float64
	var m *linear.Model
	for r := 0; r < o.repeats; r++ {
		t0, c0 := time.Now(), cpuSeconds()
		var err error
		m, err = linear.Fit(s.Train, s.YTrain, linear.Config{C: 1, Workers: o.threads})
		if err != nil {
			return quality{}, fmt.Errorf("%s: %w", s.Name, err)
		}
		times = append(times, time.Since(t0).Seconds())
		cpu = append(cpu, cpuSeconds()-c0)
	}
	p, err := m.PredictProba(s.Test, nil)
	if err != nil {
		return quality{}, err
	}
	q, err := score(s.YTest, p)
	slices.Sort(times)
	slices.Sort(cpu)
	q.FitS, q.FitCPUS, q.Iterations = times[len(times)/2], cpu[len(cpu)/2], m.Iter
	return q, err
}

func fitIForest(s split, o options) (quality, error) {
	var sum quality
	var aucs []float64
	for seed := 0; seed < o.seeds; seed++ {
		t0, c0 := time.Now(), cpuSeconds()
		m, err := iforest.Fit(s.Train, iforest.Config{NumTrees: 100, SampleSize: 256, Seed: uint64(seed), Workers: o.threads})
		if err != nil {
			return quality{}, fmt.Errorf("%s: %w", s.Name, err)
		}
		fit, fitCPU := time.Since(t0).Seconds(), cpuSeconds()-c0
		sc, err := m.Score(s.Test, nil)
		if err != nil {
			return quality{}, err
		}
		q, err := score(s.YTest, sc)
		if err != nil {
			return quality{}, err
		}
		sum.FitS += fit
		sum.FitCPUS += fitCPU
		sum.ROCAUC += q.ROCAUC
		sum.AUPRC += q.AUPRC
		aucs = append(aucs, q.ROCAUC)
	}
	n := float64(o.seeds)
	sum.FitS, sum.FitCPUS, sum.ROCAUC, sum.AUPRC = sum.FitS/n, sum.FitCPUS/n, sum.ROCAUC/n, sum.AUPRC/n
	sum.ROCAUCSD = popSD(aucs)
	return sum, nil
}

func score(y, p []float64) (quality, error) {
	auc, err := metrics.ROCAUC(y, p)
	if err != nil {
		return quality{}, err
	}
	ap, err := metrics.AveragePrecision(y, p)
	return quality{ROCAUC: auc, AUPRC: ap}, err
}

func popSD(v []float64) float64 {
	var m, s float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

func printRows(w io.Writer, res *linearIForestResult) {
	fmt.Fprintf(w, "Plinth vs %s, %d thread(s) each\n", res.Peer, res.Env.Threads)
	fmt.Fprintf(w, "%-20s %-22s %8s %8s %6s %6s %7s %7s %7s %7s %s\n", "model", "dataset", "fit s", "sk fit s", "wall×", "cpu×", "AUC", "sk AUC", "AUPRC", "sk AP", "met")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%-20s %-22s %8.4f %8.4f %6.2f %6.2f %7.4f %7.4f %7.4f %7.4f %v\n", r.Model, r.Dataset,
			r.Plinth.FitS, r.Sklearn.FitS, r.FitRatio, r.CPURatio, r.Plinth.ROCAUC, r.Sklearn.ROCAUC, r.Plinth.AUPRC, r.Sklearn.AUPRC, r.TargetsMet)
	}
}
