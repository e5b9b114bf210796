package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/plinthai/plinth/internal/tabular"
)

// peerResult is what the XGBoost script reports.
type peerResult struct {
	TrainS         float64 `json:"train_s"`
	PredictRowsS   float64 `json:"predict_rows_s"`
	XGBoostVersion string  `json:"xgboost_version"`
	pred           []float64
}

// writeSplit writes both splits as raw row-major float32 for the peer.
func writeSplit(dir string, set *tabular.Set) error {
	for _, s := range []struct {
		name string
		sp   tabular.Split
	}{{"train", set.Train}, {"test", set.Test}} {
		if err := writeF32(filepath.Join(dir, s.name+".x.f32"), rowMajor(s.sp)); err != nil {
			return err
		}
		if err := writeF32(filepath.Join(dir, s.name+".y.f32"), s.sp.Y); err != nil {
			return err
		}
	}
	return nil
}

// rowMajor flattens a split's frame row by row.
func rowMajor(s tabular.Split) []float32 {
	n, nf := s.X.NumRows(), s.X.NumCols()
	out := make([]float32, n*nf)
	for j, col := range s.X.Cols {
		for i, v := range col {
			out[i*nf+j] = v
		}
	}
	return out
}

// writeF32 writes little-endian float32 values.
func writeF32(path string, v []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runPeer runs the XGBoost script on the split in dir.
func runPeer(ctx context.Context, cfg config, dir string, set *tabular.Set, rounds int) (peerResult, error) {
	cmd := exec.CommandContext(ctx, cfg.python, cfg.peer, "--dir", dir,
		"--train-rows", strconv.Itoa(len(set.Train.Y)), "--test-rows", strconv.Itoa(len(set.Test.Y)),
		"--cols", strconv.Itoa(set.Train.X.NumCols()), "--rounds", strconv.Itoa(rounds),
		"--threads", strconv.Itoa(cfg.threads), "--predict-reps", strconv.Itoa(cfg.predictReps))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(cfg.threads))
	var res peerResult
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("peer %s: %w", cfg.peer, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("peer result: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "test_pred.f32"))
	if err != nil {
		return res, err
	}
	if len(raw) != 4*len(set.Test.Y) {
		return res, fmt.Errorf("peer wrote %d prediction bytes, want %d", len(raw), 4*len(set.Test.Y))
	}
	res.pred = make([]float64, len(set.Test.Y))
	for i := range res.pred {
		res.pred[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return res, nil
}
