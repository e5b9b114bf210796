#!/usr/bin/python3
"""XGBoost peer for bench/gbdt: train, time and predict one data set split.

Called by `go run ./bench/gbdt` (see bench/gbdt/README.md), never by hand in
normal use. Inputs are raw little-endian float32 files written by the Go
side (rows x cols, row-major; labels one per row), so both trainers see the
same bits. Parameters are the benchmark's: tree_method hist, max_depth 6,
eta 0.1, max_bin 256, objective binary:logistic, --threads threads to train,
1 thread to predict.

Writes to --out-dir: result.json (timings, version), model.json
(save_model, for Plinth to import and predict with the same trees) and
test_pred.f32 (XGBoost's test probabilities, float32).
"""
import argparse
import json
import os
import time

import numpy as np
import xgboost as xgb


def load(prefix, rows, cols):
    x = np.fromfile(prefix + ".x.f32", dtype="<f4").reshape(rows, cols)
    y = np.fromfile(prefix + ".y.f32", dtype="<f4")
    assert y.shape[0] == rows, (prefix, y.shape, rows)
    return x, y


def best_of(fn, reps):
    best = float("inf")
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--train-rows", type=int, required=True)
    ap.add_argument("--test-rows", type=int, required=True)
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predict-reps", type=int, default=3)
    a = ap.parse_args()

    xtr, ytr = load(os.path.join(a.dir, "train"), a.train_rows, a.cols)
    xte, _ = load(os.path.join(a.dir, "test"), a.test_rows, a.cols)
    params = dict(tree_method="hist", max_depth=6, eta=0.1, max_bin=256, objective="binary:logistic",
                  nthread=a.threads, seed=0)

    # Train time covers what Plinth's Train covers: from an in-memory float
    # matrix to a model (XGBoost's DMatrix, quantile sketch and boosting).
    t = time.perf_counter()
    dtrain = xgb.DMatrix(xtr, label=ytr, missing=np.nan, nthread=a.threads)
    booster = xgb.train(params, dtrain, num_boost_round=a.rounds)
    train_s = time.perf_counter() - t

    booster.set_param({"nthread": 1})
    # inplace_predict is XGBoost's fastest batch path (no DMatrix copy).
    predict_s, pred = best_of(lambda: booster.inplace_predict(xte, missing=np.nan), a.predict_reps)
    pred.astype("<f4").tofile(os.path.join(a.dir, "test_pred.f32"))
    booster.save_model(os.path.join(a.dir, "model.json"))
    json.dump(dict(train_s=train_s, predict_s=predict_s, predict_rows_s=a.test_rows / predict_s,
                   xgboost_version=xgb.__version__, numpy_version=np.__version__),
              open(os.path.join(a.dir, "result.json"), "w"))


if __name__ == "__main__":
    main()
