#!/usr/bin/python3
"""scikit-learn peer for bench/ml: logistic regression and isolation forest
on the splits that the Go bench program wrote (same rows, same encoding, the
same float32 values).

Usage: OMP_NUM_THREADS=1 /usr/bin/python3 sklearn_linear_iforest.py DIR
Reads DIR/<data set>.<linear|iforest>.{train,test}.csv (headerless, label
last) and DIR/datasets.txt, prints one JSON line {"peer": ..., "numpy": ...},
then serves one fit per command line on stdin, so that the Go side can
alternate its fits with the peer's one by one:

    linear NAME         -> one logistic regression fit on NAME
    iforest NAME SEED   -> one isolation forest fit on NAME with SEED
    quit

Each answer is one JSON line: fit_s (wall, time.perf_counter) and fit_cpu_s
(time.process_time) around the fit call only, then the test-set roc_auc and
auprc (sklearn.metrics) and, for logistic regression, iterations.

- LogisticRegression(lbfgs, C=1.0, max_iter=10000) after StandardScaler in a
  pipeline: it minimises ||w||^2/2 + C*sum(loss), as Plinth's ml/linear.
- IsolationForest(n_estimators=100, max_samples=256, random_state=seed),
  n_jobs=1, scored as -score_samples (higher = more anomalous).
"""
import json
import os
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


def fit_linear(data):
    xtr, ytr, xte, yte = data
    t0, c0 = time.perf_counter(), time.process_time()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="lbfgs", max_iter=10000))
    model.fit(xtr, ytr)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    p = model.predict_proba(xte)[:, 1]
    return {"fit_s": wall, "fit_cpu_s": cpu, "roc_auc": roc_auc_score(yte, p),
            "auprc": average_precision_score(yte, p), "iterations": int(model[-1].n_iter_[0])}


def fit_iforest(data, seed):
    xtr, _, xte, yte = data
    t0, c0 = time.perf_counter(), time.process_time()
    model = IsolationForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=1).fit(xtr)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = -model.score_samples(xte)
    return {"fit_s": wall, "fit_cpu_s": cpu, "roc_auc": roc_auc_score(yte, s), "auprc": average_precision_score(yte, s)}


def main():
    d = sys.argv[1]
    data = {}
    for line in open(os.path.join(d, "datasets.txt")):
        name, tasks = line.split()
        for task in tasks.split(","):
            data[(task, name)] = load(d, name, task, "train") + load(d, name, task, "test")
    print(json.dumps({"peer": "scikit-learn " + sklearn.__version__, "numpy": np.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "linear":
            out = fit_linear(data[("linear", cmd[1])])
        elif cmd[0] == "iforest":
            out = fit_iforest(data[("iforest", cmd[1])], int(cmd[2]))
        else:
            out = {"error": "unknown command " + cmd[0]}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
