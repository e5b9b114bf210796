package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plinthai/plinth/ml/mf"
)

// sgdRun is one training run of one implementation.
type sgdRun struct {
	Seed uint64  `json:"seed"`
	CPUs float64 `json:"cpu_s"`
	RMSE float64 `json:"rmse"`
}

// sgdResult compares Plinth and numba on one data set.
type sgdResult struct {
	Dataset    string      `json:"dataset"`
	Users      int         `json:"users"`
	Items      int         `json:"items"`
	Train      int         `json:"train_ratings"`
	Test       int         `json:"test_ratings"`
	Setting    sgdSetting  `json:"setting"`
	ValGrid    []valTrial  `json:"validation_grid,omitempty"`
	Plinth     []sgdRun    `json:"plinth"`
	Numba      []sgdRun    `json:"numba"`
	PlinthRMSE float64     `json:"plinth_rmse_mean"`
	NumbaRMSE  float64     `json:"numba_rmse_mean"`
	Rounds     []sgdRound  `json:"rounds"`
	PlinthCPU  float64     `json:"plinth_cpu_s_median"`
	NumbaCPU   float64     `json:"numba_cpu_s_median"`
	CPURatio   float64     `json:"cpu_ratio_plinth_over_numba_median"`
	TargetRMSE float64     `json:"target_rmse"`
	RMSEMet    bool        `json:"rmse_target_met"`
	CPUMet     bool        `json:"cpu_target_met"`
	Context    *sgdContext `json:"context,omitempty"`
}

// sgdContext is test RMSE over more seeds with the chosen setting, for
// context only: the target is judged on the protocol's seeds.
type sgdContext struct {
	Seeds      []uint64 `json:"seeds"`
	Plinth     []sgdRun `json:"plinth"`
	Numba      []sgdRun `json:"numba"`
	PlinthRMSE float64  `json:"plinth_rmse_mean"`
	NumbaRMSE  float64  `json:"numba_rmse_mean"`
}

// cpuTime returns this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sgdConfig is the fixed hyper-parameters with the setting s.
func sgdConfig(seed uint64, s sgdSetting) mf.SGDConfig {
	return mf.SGDConfig{Factors: 50, Epochs: 20, LR: 0.005, Reg: 0.02, Seed: seed,
		InitStd: s.InitStd, Order: orders[s.Order], BiasInit: biasInits[s.BiasInit], Update: updates[s.Update]}
}

// orders, biasInits and updates map the words of the flags (the peer takes
// the same words) to ml/mf's settings.
var (
	orders    = map[string]mf.SGDOrder{"user": mf.OrderByUser, "shuffle": mf.OrderShuffle}
	biasInits = map[string]mf.SGDBiasInit{"zero": mf.BiasZero, "baseline": mf.BiasBaseline}
	updates   = map[string]mf.SGDUpdate{"simultaneous": mf.UpdateSimultaneous, "sequential": mf.UpdateSequential}
)

// runPlinthSGD trains once per seed, timing training only.
func runPlinthSGD(d dataset, seeds []uint64, set sgdSetting) ([]sgdRun, error) {
	train, test := ratings(d.train, d.numUsers, d.numItems), ratings(d.test, d.numUsers, d.numItems)
	var runs []sgdRun
	for _, s := range seeds {
		start := cpuTime()
		m, err := mf.TrainSGD(train, sgdConfig(s, set))
		cpu := cpuTime() - start
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		var se float64
		for j := range test.Values {
			p, err := m.Predict(int(test.Users[j]), int(test.Items[j]))
			if err != nil {
				return nil, err
			}
			se += (p - test.Values[j]) * (p - test.Values[j])
		}
		runs = append(runs, sgdRun{Seed: s, CPUs: cpu.Seconds(), RMSE: math.Sqrt(se / float64(len(test.Values)))})
	}
	return runs, nil
}

// runNumbaSGD writes the split to a temporary folder and runs the peer.
func runNumbaSGD(d dataset, seeds []uint64, set sgdSetting, python, script string) ([]sgdRun, error) {
	dir, err := os.MkdirTemp("", "plinth-bench-mf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := writeSplit(dir, d); err != nil {
		return nil, err
	}
	ss := make([]string, len(seeds))
	for j, s := range seeds {
		ss[j] = strconv.FormatUint(s, 10)
	}
	cmd := exec.Command(python, script, dir, "--seeds", strings.Join(ss, ","), "--order", set.Order,
		"--init-std", strconv.FormatFloat(set.InitStd, 'g', -1, 64), "--bias-init", set.BiasInit, "--update", set.Update)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("numba peer on %s: %w", d.name, err)
	}
	var res struct{ Runs []sgdRun }
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("numba peer output %q: %w", out, err)
	}
	return res.Runs, nil
}

// writeSplit writes the raw little-endian columns the peer reads.
func writeSplit(dir string, d dataset) error {
	meta, _ := json.Marshal(map[string]int{"num_users": d.numUsers, "num_items": d.numItems})
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o600); err != nil {
		return err
	}
	for name, rows := range map[string][]row{"train": d.train, "test": d.test} {
		var u, i, r []byte
		for _, x := range rows {
			u = binary.LittleEndian.AppendUint32(u, uint32(x.user))
			i = binary.LittleEndian.AppendUint32(i, uint32(x.item))
			r = binary.LittleEndian.AppendUint64(r, math.Float64bits(x.rating))
		}
		for suffix, b := range map[string][]byte{"_u.i32": u, "_i.i32": i, "_r.f64": r} {
			if err := os.WriteFile(filepath.Join(dir, name+suffix), b, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// sgdRound is one side-by-side round: both sides over all seeds.
type sgdRound struct {
	PlinthCPU float64 `json:"plinth_cpu_s_mean"`
	NumbaCPU  float64 `json:"numba_cpu_s_mean"`
	Ratio     float64 `json:"cpu_ratio"`
}

// compareSGD runs both sides on d, rounds times side by side, and
// summarises: RMSE from the first round (training is deterministic per seed
// on both sides), CPU time and ratio as the median over the rounds.
func compareSGD(d dataset, seeds []uint64, target float64, set sgdSetting, rounds int, python, script string) (sgdResult, error) {
	res := sgdResult{Dataset: d.name, Setting: set, Users: d.numUsers, Items: d.numItems, Train: len(d.train), Test: len(d.test), TargetRMSE: target}
	for r := range rounds {
		pl, nb, err := runBothSGD(d, seeds, set, python, script)
		if err != nil {
			return res, err
		}
		if r == 0 {
			res.Plinth, res.Numba = pl, nb
		}
		_, pc := meanRuns(pl)
		_, nc := meanRuns(nb)
		res.Rounds = append(res.Rounds, sgdRound{PlinthCPU: pc, NumbaCPU: nc, Ratio: pc / nc})
	}
	res.PlinthRMSE, _ = meanRuns(res.Plinth)
	res.NumbaRMSE, _ = meanRuns(res.Numba)
	res.PlinthCPU = median(res.Rounds, func(r sgdRound) float64 { return r.PlinthCPU })
	res.NumbaCPU = median(res.Rounds, func(r sgdRound) float64 { return r.NumbaCPU })
	res.CPURatio = median(res.Rounds, func(r sgdRound) float64 { return r.Ratio })
	res.RMSEMet = res.PlinthRMSE <= target
	res.CPUMet = res.CPURatio <= 1
	return res, nil
}

// runBothSGD trains Plinth, then numba, once per seed with the setting.
func runBothSGD(d dataset, seeds []uint64, set sgdSetting, python, script string) (pl, nb []sgdRun, err error) {
	if pl, err = runPlinthSGD(d, seeds, set); err != nil {
		return nil, nil, err
	}
	nb, err = runNumbaSGD(d, seeds, set, python, script)
	return pl, nb, err
}

// contextSGD trains both sides once per seed with the chosen setting and
// scores the test rows: more seeds than the protocol's, for context only.
func contextSGD(d dataset, seeds []uint64, set sgdSetting, python, script string) (*sgdContext, error) {
	pl, nb, err := runBothSGD(d, seeds, set, python, script)
	if err != nil {
		return nil, err
	}
	c := &sgdContext{Seeds: seeds, Plinth: pl, Numba: nb}
	c.PlinthRMSE, _ = meanRuns(pl)
	c.NumbaRMSE, _ = meanRuns(nb)
	return c, nil
}

// median returns the median of f over rounds (mean of the middle two when
// even).
func median(rounds []sgdRound, f func(sgdRound) float64) float64 {
	v := make([]float64, len(rounds))
	for j, r := range rounds {
		v[j] = f(r)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func meanRuns(runs []sgdRun) (rmse, cpu float64) {
	for _, r := range runs {
		rmse += r.RMSE
		cpu += r.CPUs
	}
	n := float64(len(runs))
	return rmse / n, cpu / n
}
