#!/usr/bin/python3
"""scikit-learn peer for bench/ml: logistic regression and isolation forest
on the splits that the Go bench program wrote (same rows, same encoding, the
same float32 values).

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 sklearn_linear_iforest.py DIR REPEATS SEEDS
Reads DIR/<data set>.<linear|iforest>.{train,test}.csv (headerless, label
last) and DIR/datasets.txt; prints one JSON object on stdout.

- LogisticRegression(lbfgs, C=1.0, max_iter=10000) after StandardScaler in a
  pipeline: it minimises ||w||²/2 + C·Σ loss, as Plinth's ml/linear.
- IsolationForest(n_estimators=100, max_samples=256, random_state=seed),
  n_jobs=1, scored as -score_samples (higher = more anomalous).
Fit seconds (wall, and CPU by time.process_time) are the median of REPEATS
fits (linear) and the mean over SEEDS seeds (isolation forest).
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(d, name, task, part):
    a = np.loadtxt(os.path.join(d, f"{name}.{task}.{part}.csv"), delimiter=",", dtype=np.float64, ndmin=2)
    return a[:, :-1], a[:, -1]


def linear(d, name, repeats):
    xtr, ytr = load(d, name, "linear", "train")
    xte, yte = load(d, name, "linear", "test")
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="lbfgs", max_iter=10000))
        model.fit(xtr, ytr)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    p = model.predict_proba(xte)[:, 1]
    return {"fit_s": statistics.median(times), "fit_cpu_s": statistics.median(cpu), "roc_auc": roc_auc_score(yte, p),
            "auprc": average_precision_score(yte, p), "iterations": int(model[-1].n_iter_[0])}


def iforest(d, name, seeds):
    xtr, _ = load(d, name, "iforest", "train")
    xte, yte = load(d, name, "iforest", "test")
    times, cpu, aucs, aps = [], [], [], []
    for seed in range(seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        model = IsolationForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=1).fit(xtr)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        s = -model.score_samples(xte)
        aucs.append(roc_auc_score(yte, s))
        aps.append(average_precision_score(yte, s))
    return {"fit_s": statistics.mean(times), "fit_cpu_s": statistics.mean(cpu), "roc_auc": statistics.mean(aucs),
            "auprc": statistics.mean(aps), "roc_auc_sd": statistics.pstdev(aucs)}


def main():
    d, repeats, seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = {"peer": "scikit-learn " + sklearn.__version__, "numpy": np.__version__, "linear": {}, "iforest": {}}
    for line in open(os.path.join(d, "datasets.txt")):
        name, tasks = line.split()
        if "linear" in tasks:
            out["linear"][name] = linear(d, name, repeats)
        if "iforest" in tasks:
            out["iforest"][name] = iforest(d, name, seeds)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
