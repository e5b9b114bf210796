#!/usr/bin/python3
"""Trains bench/serving's models with Debian's XGBoost 1.7 and writes the
payloads. As in shared baselines-serving.md: make_classification(50 000 x
30, 15 informative, seed 42), binary:logistic, max_depth 6, eta 0.1, hist;
100 trees for the benchmark model, 300 for the memory check.
Usage: train.py OUT_DIR
"""
import json
import os
import sys

import xgboost as xgb
from sklearn.datasets import make_classification

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x, y = make_classification(n_samples=50000, n_features=30, n_informative=15, random_state=42)
d = xgb.DMatrix(x[:40000], label=y[:40000])
params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "tree_method": "hist", "nthread": 2, "seed": 42}
for trees in (100, 300):
    b = xgb.train(params, d, num_boost_round=trees)
    b.save_model(os.path.join(out, "xgb%d.json" % trees))
row = [float(v) for v in x[45000]]
with open(os.path.join(out, "sample.json"), "w") as f:
    json.dump({"features": row}, f)
with open(os.path.join(out, "oip.json"), "w") as f:
    json.dump({"inputs": [{"name": "features", "shape": [1, 30], "datatype": "FP32", "data": row}]}, f)
b = xgb.Booster(model_file=os.path.join(out, "xgb100.json"))
print(json.dumps({"expected_score": float(b.inplace_predict(x[45000:45001].astype("float32"))[0])}))
