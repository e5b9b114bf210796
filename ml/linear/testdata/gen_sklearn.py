#!/usr/bin/python3
"""Writes sklearn_fixture.json: a small data set and scikit-learn's fitted
logistic regressions on it (after StandardScaler), for ml/linear's tests.

Run from this folder with Debian's scikit-learn: /usr/bin/python3 gen_sklearn.py
"""
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(7)
n, d = 300, 4
X = rng.normal(size=(n, d)) * np.array([1.0, 10.0, 0.1, 3.0]) + np.array([0.0, 5.0, 0.1, 2.0])
true_w = np.array([1.5, -0.2, 8.0, 0.0])
logit = X @ true_w + 0.5 + rng.logistic(size=n)
y = (logit > 0).astype(float)
X[:, 3] = np.round(X[:, 3])  # ties
Xs = StandardScaler().fit_transform(X)

cases = []
for C, penalty, cw in [(1.0, "l2", None), (0.05, "l2", None), (1.0, "l2", "balanced"),
                       (0.02, "l1", None)]:
    if penalty == "l1":
        clf = LogisticRegression(penalty="l1", C=C, solver="saga", tol=1e-12, max_iter=200000, class_weight=cw)
    else:
        clf = LogisticRegression(penalty="l2", C=C, solver="lbfgs", tol=1e-10, max_iter=10000, class_weight=cw)
    clf.fit(Xs, y)
    cases.append({"C": C, "penalty": penalty, "balanced": cw == "balanced",
                  "coef": clf.coef_[0].tolist(), "intercept": float(clf.intercept_[0]),
                  "proba": clf.predict_proba(Xs)[:, 1].tolist()})

json.dump({"X": X.tolist(), "y": y.tolist(), "cases": cases}, open("sklearn_fixture.json", "w"), indent=0)
