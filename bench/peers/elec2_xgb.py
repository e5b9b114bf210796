"""XGBoost references for bench/elec2: prequential accuracy on elec2 after
the first four weeks (1344 half-hours), on the eight original inputs.

  ref_trained_once    trained once on weeks 1-4
  ref_weekly_8w       retrained at the start of every week on the last 8 weeks
  ref_previous_label  the label of the previous half-hour

Prints one JSON object. Debian's python3-xgboost (1.7), run with /usr/bin/python3.
"""
import argparse
import gzip
import json

import numpy as np
import xgboost as xgb

DAY = 48
WEEK = 7 * DAY
WARMUP = 4 * WEEK
LOOKBACK = 8 * WEEK
PARAMS = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": 2}
ROUNDS = 100


def load(path, rows):
    x, y = [], []
    with gzip.open(path, "rt") as f:
        for line in f:
            p = line.strip().split(",")
            x.append([float(v) for v in p[:8]])
            y.append(1.0 if p[8] == "UP" else 0.0)
            if rows and len(y) >= rows:
                break
    return np.array(x, dtype=np.float32), np.array(y, dtype=np.float32)


def fit(x, y):
    return xgb.train(PARAMS, xgb.DMatrix(x, label=y), ROUNDS)


def accuracy(pred, y):
    return float(np.mean((pred >= 0.5) == (y == 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--rows", type=int, default=0)
    a = ap.parse_args()
    x, y = load(a.data, a.rows)
    once = fit(x[:WARMUP], y[:WARMUP]).predict(xgb.DMatrix(x[WARMUP:]))
    weekly = np.empty(len(y) - WARMUP, dtype=np.float32)
    for s in range(WARMUP, len(y), WEEK):
        m = fit(x[max(0, s - LOOKBACK):s], y[max(0, s - LOOKBACK):s])
        e = min(s + WEEK, len(y))
        weekly[s - WARMUP:e - WARMUP] = m.predict(xgb.DMatrix(x[s:e]))
    prev = y[WARMUP - 1:-1]
    print(json.dumps({
        "ref_trained_once": accuracy(once, y[WARMUP:]),
        "ref_weekly_8w": accuracy(weekly, y[WARMUP:]),
        "ref_previous_label": accuracy(prev, y[WARMUP:]),
        "ref_xgboost_version": xgb.__version__,
    }))


if __name__ == "__main__":
    main()
