#!/usr/bin/python3
"""Make the XGBoost import fixtures beside this script.

Run with Debian's python3-xgboost (1.7.4 when these were made):

    /usr/bin/python3 make_fixtures.py

For each model NAME it writes NAME.json (booster.save_model), NAME.inputs.csv
(float32 rows, "nan" = missing) and NAME.preds.csv (XGBoost's margin and
prediction for each row, float32 printed with 9 significant digits). The
inputs mix random values, NaNs and values exactly equal to the model's split
conditions, so the x < threshold equality branch and default_left are both
exercised.

"v2form" is the 1.7.4 file of "binary_base03" rewritten to the 2.x schema's
spellings (base_score as "[3E-1]", version [2, 1, 0]): no XGBoost 2.x is
installable here; its predictions are XGBoost 1.7.4's for the same trees.
"""
import json

import numpy as np
import xgboost as xgb


def data(seed, n, nf):
    r = np.random.default_rng(seed)
    X = r.standard_normal((n, nf)).astype(np.float32)
    X[r.random((n, nf)) < 0.1] = np.nan
    z = np.nan_to_num(1.5 * X[:, 0] - X[:, 1] * X[:, 2] + np.sin(3 * X[:, 3]), nan=0.7)
    return X, z, r


def probe_rows(booster, r, nf, n=300):
    """Rows whose values often sit exactly on split conditions."""
    splits = {f: [] for f in range(nf)}
    for tree in json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]:
        for i, left in enumerate(tree["left_children"]):
            if left != -1:
                splits[tree["split_indices"][i]].append(tree["split_conditions"][i])
    X = r.standard_normal((n, nf)).astype(np.float32)
    for i in range(n):
        for f in range(nf):
            u = r.random()
            if u < 0.15:
                X[i, f] = np.nan
            elif u < 0.75 and splits[f]:
                X[i, f] = np.float32(splits[f][r.integers(len(splits[f]))])
    return X


def write(name, booster, X):
    booster.save_model(name + ".json")
    d = xgb.DMatrix(X, missing=np.nan, feature_names=booster.feature_names)
    margin = booster.predict(d, output_margin=True)
    pred = booster.predict(d)
    np.savetxt(name + ".inputs.csv", X, fmt="%.9g", delimiter=",")
    np.savetxt(name + ".preds.csv", np.column_stack([margin, pred]), fmt="%.9g", delimiter=",",
               header="margin,prediction", comments="")


def main():
    nf = 6
    X, z, r = data(1, 2000, nf)
    y = (z + 0.5 * r.standard_normal(len(z)) > 0).astype(np.float32)
    common = dict(tree_method="hist", nthread=1, seed=0)

    b = xgb.train(dict(common, objective="binary:logistic", max_depth=5, eta=0.3), xgb.DMatrix(X, label=y), 20)
    write("binary", b, probe_rows(b, r, nf))

    b = xgb.train(dict(common, objective="binary:logistic", max_depth=4, eta=0.3, base_score=0.3),
                  xgb.DMatrix(X, label=y), 10)
    Xp = probe_rows(b, r, nf)
    write("binary_base03", b, Xp)
    m = json.load(open("binary_base03.json"))
    m["learner"]["learner_model_param"]["base_score"] = "[" + m["learner"]["learner_model_param"]["base_score"] + "]"
    m["version"] = [2, 1, 0]
    json.dump(m, open("v2form.json", "w"))
    for ext in (".inputs.csv", ".preds.csv"):
        open("v2form" + ext, "w").write(open("binary_base03" + ext).read())

    b = xgb.train(dict(common, objective="reg:squarederror", max_depth=6, eta=0.2, base_score=1.5),
                  xgb.DMatrix(X, label=z, feature_names=[f"x{i}" for i in range(nf)]), 15)
    write("regression", b, probe_rows(b, r, nf))

    b = xgb.train(dict(common, objective="binary:logistic", max_depth=2, eta=0.5), xgb.DMatrix(X, label=y), 3)
    write("tiny", b, probe_rows(b, r, nf, n=40))

    b = xgb.train(dict(common, objective="binary:logistic", grow_policy="lossguide", max_leaves=12,
                       max_depth=0, eta=0.3, reg_alpha=0.5, gamma=0.1), xgb.DMatrix(X, label=y), 10)
    write("lossguide", b, probe_rows(b, r, nf))

    # Three classes by the sign pattern of z and x4; preds.csv holds the
    # three margins, then the three probabilities.
    c = np.where(z > 0.5, 2, np.where(np.nan_to_num(X[:, 4]) > 0, 1, 0)).astype(np.float32)
    b = xgb.train(dict(common, objective="multi:softprob", num_class=3, max_depth=4, eta=0.3),
                  xgb.DMatrix(X, label=c), 8)
    write_multi("multiclass", b, probe_rows(b, r, nf))


def write_multi(name, booster, X):
    booster.save_model(name + ".json")
    d = xgb.DMatrix(X, missing=np.nan)
    margin = booster.predict(d, output_margin=True)
    prob = booster.predict(d)
    k = prob.shape[1]
    np.savetxt(name + ".inputs.csv", X, fmt="%.9g", delimiter=",")
    np.savetxt(name + ".preds.csv", np.column_stack([margin, prob]), fmt="%.9g", delimiter=",",
               header=",".join([f"margin{i}" for i in range(k)] + [f"prob{i}" for i in range(k)]), comments="")


if __name__ == "__main__":
    main()
