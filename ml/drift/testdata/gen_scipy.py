#!/usr/bin/python3
"""Writes scipy_fixture.json: samples with ties and SciPy's two-sample KS
statistic, Kolmogorov p-value and chi-square homogeneity tests, for
ml/drift's tests. Run from this folder: /usr/bin/python3 gen_scipy.py
"""
import json

import numpy as np
from scipy import stats

rng = np.random.default_rng(3)
ks = []
for n, m, shift in [(50, 70, 0.0), (200, 150, 0.3), (1000, 800, 0.1)]:
    a = np.round(rng.normal(size=n), 1)  # rounding makes ties
    b = np.round(rng.normal(loc=shift, size=m), 1)
    d = stats.ks_2samp(a, b).statistic
    en = n * m / (n + m)
    ks.append({"a": a.tolist(), "b": b.tolist(), "d": float(d),
               "p_asymp": float(stats.kstwobign.sf(d * np.sqrt(en)))})
chi = []
for ref, live in [([10, 20, 30], [12, 18, 30]), ([100, 5, 0, 40], [80, 30, 0, 41]),
                  ([1000, 2000, 3000, 10], [900, 2100, 3050, 40])]:
    r = np.array([ref, live], dtype=float)
    keep = r.sum(axis=0) > 0
    stat, p, dof, _ = stats.chi2_contingency(r[:, keep], correction=False)
    chi.append({"ref": ref, "live": live, "stat": float(stat), "p": float(p), "df": int(dof)})
json.dump({"ks": ks, "chi": chi}, open("scipy_fixture.json", "w"))
