#!/usr/bin/python3
"""Peer for bench/mf: Surprise-style biased MF trained by SGD, compiled with numba.

It runs exactly the loop of Plinth's ml/mf TrainSGD: float64 throughout;
factors initialised N(0, init_std^2) (users, then items; --init-std, which
the bench sets to the spread it chose on validation), biases 0; each
epoch visits every rating once, by default in Surprise's order (--order user:
grouped by user, users in order of their first rating in the training file,
each user's ratings in file order, the same every epoch, as
trainset.all_ratings()), or with --order shuffle in a fresh uniformly random
order (Fisher-Yates on the rating columns in place); one SGD step per rating
on b_u, b_i, p_u, q_i with the same lr and reg; users and items without
ratings get zero factors; predictions clipped to the training rating range.
Only the random streams differ (numpy's Mersenne Twister here, PCG in Go).

Input: a folder written by `go run ./bench/mf` holding train_{u,i}.i32,
train_r.f64, test_{u,i}.i32, test_r.f64 and meta.json. Output: one JSON
object on stdout with, per seed, the training CPU time (time.process_time
around the train call only; numba's JIT compile is excluded by a warm-up call
on a tiny problem first) and the test RMSE.
"""
import argparse
import json
import os
import time

import numpy as np
from numba import njit


@njit(cache=False)
def group_by_user(u, i, r, nu):
    """Stable grouping by user, users in order of their first rating: the
    order of Surprise's trainset.all_ratings() (and Go's groupByUser)."""
    n = r.shape[0]
    rank = np.zeros(nu, dtype=np.int64)
    groups = 0
    for j in range(n):
        if rank[u[j]] == 0:
            groups += 1
            rank[u[j]] = groups
    nxt = np.zeros(groups + 1, dtype=np.int64)
    for j in range(n):
        nxt[rank[u[j]]] += 1
    s = 0
    for g in range(1, groups + 1):
        c = nxt[g]
        nxt[g] = s
        s += c
    ou = np.empty_like(u)
    oi = np.empty_like(i)
    orr = np.empty_like(r)
    for j in range(n):
        g = rank[u[j]]
        ou[nxt[g]] = u[j]
        oi[nxt[g]] = i[j]
        orr[nxt[g]] = r[j]
        nxt[g] += 1
    return ou, oi, orr


@njit(cache=False)
def train(u, i, r, nu, ni, k, epochs, lr, reg, init_std, seed, shuffle):
    np.random.seed(seed)
    P = np.random.normal(0.0, init_std, (nu, k))
    Q = np.random.normal(0.0, init_std, (ni, k))
    bu = np.zeros(nu)
    bi = np.zeros(ni)
    mu = r.mean()
    n = r.shape[0]
    # Like Go, work on reordered copies of the columns: grouped by user once
    # (Surprise's order, default) or shuffled in place (Fisher-Yates) each
    # epoch, so both sides read the ratings sequentially.
    if shuffle:
        u = u.copy()
        i = i.copy()
        r = r.copy()
    else:
        u, i, r = group_by_user(u, i, r, nu)
    for _ in range(epochs):
        if shuffle:
            for j in range(n - 1, 0, -1):
                s = np.random.randint(0, j + 1)
                u[j], u[s] = u[s], u[j]
                i[j], i[s] = i[s], i[j]
                r[j], r[s] = r[s], r[j]
        for j in range(n):
            uu = u[j]
            ii = i[j]
            # Same arithmetic as Go: dot product with four accumulators, and
            # the update p + lr*(err*q - reg*p) written decay*p + g*q.
            d0 = 0.0
            d1 = 0.0
            d2 = 0.0
            d3 = 0.0
            k4 = k - k % 4
            for f in range(0, k4, 4):
                d0 += P[uu, f] * Q[ii, f]
                d1 += P[uu, f + 1] * Q[ii, f + 1]
                d2 += P[uu, f + 2] * Q[ii, f + 2]
                d3 += P[uu, f + 3] * Q[ii, f + 3]
            for f in range(k4, k):
                d0 += P[uu, f] * Q[ii, f]
            dot = (d0 + d1) + (d2 + d3)
            err = r[j] - (mu + bu[uu] + bi[ii] + dot)
            bu[uu] += lr * (err - reg * bu[uu])
            bi[ii] += lr * (err - reg * bi[ii])
            g = lr * err
            decay = 1.0 - lr * reg
            for f in range(k):
                puf = P[uu, f]
                qif = Q[ii, f]
                P[uu, f] = decay * puf + g * qif
                Q[ii, f] = decay * qif + g * puf
    urated = np.zeros(nu, dtype=np.bool_)
    irated = np.zeros(ni, dtype=np.bool_)
    for j in range(n):
        urated[u[j]] = True
        irated[i[j]] = True
    for x in range(nu):
        if not urated[x]:
            P[x, :] = 0.0
    for x in range(ni):
        if not irated[x]:
            Q[x, :] = 0.0
    return mu, bu, bi, P, Q


def predict(model, u, i, lo, hi):
    mu, bu, bi, P, Q = model
    est = mu + bu[u] + bi[i] + np.einsum("ij,ij->i", P[u], Q[i])
    return np.clip(est, lo, hi)


def load(folder, split):
    u = np.fromfile(os.path.join(folder, split + "_u.i32"), dtype="<i4").astype(np.int64)
    i = np.fromfile(os.path.join(folder, split + "_i.i32"), dtype="<i4").astype(np.int64)
    r = np.fromfile(os.path.join(folder, split + "_r.f64"), dtype="<f8")
    return u, i, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--factors", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--reg", type=float, default=0.02)
    ap.add_argument("--init-std", type=float, default=0.1)
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--order", choices=["user", "shuffle"], default="user")
    a = ap.parse_args()
    with open(os.path.join(a.folder, "meta.json")) as f:
        meta = json.load(f)
    nu, ni = meta["num_users"], meta["num_items"]
    tu, ti, tr = load(a.folder, "train")
    su, si, sr = load(a.folder, "test")
    # JIT warm-up on a tiny problem with the same argument types.
    shuffle = a.order == "shuffle"
    train(tu[:10], ti[:10], tr[:10], nu, ni, 2, 1, a.lr, a.reg, a.init_std, 0, shuffle)
    runs = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        t0 = time.process_time()
        model = train(tu, ti, tr, nu, ni, a.factors, a.epochs, a.lr, a.reg, a.init_std, seed, shuffle)
        cpu = time.process_time() - t0
        pred = predict(model, su, si, tr.min(), tr.max())
        rmse = float(np.sqrt(np.mean((pred - sr) ** 2)))
        runs.append({"seed": seed, "cpu_s": cpu, "rmse": rmse})
    import numba
    print(json.dumps({"numba": numba.__version__, "numpy": np.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
