#!/usr/bin/python3
"""Peer for bench/mf: Surprise-style biased MF trained by SGD, compiled with numba.

It runs exactly the loop of Plinth's ml/mf TrainSGD, with the same four
free choices the bench picks on validation and passes to both sides:

- --init-std: factors start N(0, init_std^2) (users, then items);
- --bias-init: zero (Surprise's) or baseline (Koren 2010's shrunk means,
  b_i = sum(r - mu) / (25 + |R(i)|), then b_u = sum(r - mu - b_i) / (10 + |R(u)|));
- --order: user (Surprise's: grouped by user, users in order of their first
  rating in the training file, each user's ratings in file order, the same
  every epoch, as trainset.all_ratings()) or shuffle (a fresh uniformly
  random order each epoch: Fisher-Yates on the rating columns in place);
- --update: simultaneous (Surprise's: p_u and q_i both from their old
  values) or sequential (q_i first, then p_u from the new q_i).

float64 throughout; one SGD step per rating on b_u, b_i, p_u, q_i with the
same lr and reg, the error computed once; users and items without ratings
get zero factors; predictions clipped to the training rating range. Only the
random streams differ from Go's: numpy's Mersenne Twister for the initial
factors, and for the shuffle a PCG32 generator (O'Neill's XSH-RR, 64-bit
state) with Lemire's multiply-shift bounded draw, both inside the jitted
loop (Go uses its PCG-DXSM and Lemire's method). The shuffle used to call
np.random.randint once per swap; the generator inlined here is what numba
does fastest. Like Go, the loop touches the factor rows two ratings ahead so
their first cache lines load early (the same software prefetch).

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


PCG_MULT = np.uint64(6364136223846793005)
PCG_INIT_STATE = np.uint64(0x853C49E6748FEA9B)
MASK32 = np.uint64(0xFFFFFFFF)


@njit(inline="always")
def pcg32(st):
    """Next 32-bit output of the PCG32 (XSH-RR) generator whose state and
    increment are st[0] and st[1]; uint64 arithmetic wraps."""
    old = st[0]
    st[0] = old * PCG_MULT + st[1]
    xs = np.uint32(((old >> np.uint64(18)) ^ old) >> np.uint64(27))
    rot = np.uint32(old >> np.uint64(59))
    return np.uint32((xs >> rot) | (xs << ((np.uint32(32) - rot) & np.uint32(31))))


@njit
def pcg32_seeded(seed):
    """PCG32 seeded as in O'Neill's reference pcg32_srandom(initstate, seq)
    with initstate 0x853c49e6748fea9b and seq = seed."""
    st = np.zeros(2, dtype=np.uint64)
    st[1] = (np.uint64(seed) << np.uint64(1)) | np.uint64(1)
    pcg32(st)
    st[0] += PCG_INIT_STATE
    pcg32(st)
    return st


@njit(inline="always")
def below(st, bound):
    """A uniform draw from [0, bound), 0 < bound < 2**32: Lemire's
    multiply-shift with rejection of the biased low products."""
    b = np.uint64(bound)
    m = np.uint64(pcg32(st)) * b
    if (m & MASK32) < b:
        t = ((MASK32 + np.uint64(1)) - b) % b  # 2**32 mod bound
        while (m & MASK32) < t:
            m = np.uint64(pcg32(st)) * b
    return np.int64(m >> np.uint64(32))


@njit(cache=False)
def shuffle3(u, i, r, st):
    """Fisher-Yates on three columns in place, j from n-1 down to 1."""
    for j in range(r.shape[0] - 1, 0, -1):
        s = below(st, j + 1)
        u[j], u[s] = u[s], u[j]
        i[j], i[s] = i[s], i[j]
        r[j], r[s] = r[s], r[j]


@njit(cache=False)
def shrunk_means(dst, ids, res, shrink):
    """dst[e] = sum of res over e's rows / (shrink + e's row count)."""
    count = np.zeros(dst.shape[0])
    dst[:] = 0.0
    for j in range(ids.shape[0]):
        dst[ids[j]] += res[j]
        count[ids[j]] += 1.0
    for e in range(dst.shape[0]):
        dst[e] /= shrink + count[e]


@njit(cache=False)
def baseline_biases(u, i, r, mu, bu, bi):
    """Koren (2010)'s shrunk baseline, as Go's BiasBaseline: items with
    shrinkage 25, then users on the residuals with shrinkage 10."""
    res = r - mu
    shrunk_means(bi, i, res, 25.0)
    for j in range(res.shape[0]):
        res[j] -= bi[i[j]]
    shrunk_means(bu, u, res, 10.0)


@njit(cache=False)
def train(u, i, r, nu, ni, k, epochs, lr, reg, init_std, seed, shuffle, baseline, sequential):
    np.random.seed(seed)
    P = np.random.normal(0.0, init_std, (nu, k))
    Q = np.random.normal(0.0, init_std, (ni, k))
    bu = np.zeros(nu)
    bi = np.zeros(ni)
    mu = r.mean()
    if baseline:
        baseline_biases(u, i, r, mu, bu, bi)
    n = r.shape[0]
    st = pcg32_seeded(seed)
    # Like Go, work on reordered copies of the columns: grouped by user once
    # (Surprise's order) or shuffled in place each epoch, so both sides read
    # the ratings sequentially.
    if shuffle:
        u = u.copy()
        i = i.copy()
        r = r.copy()
    else:
        u, i, r = group_by_user(u, i, r, nu)
    decay = 1.0 - lr * reg
    k4 = k - k % 4
    touch = 0.0
    for _ in range(epochs):
        if shuffle:
            shuffle3(u, i, r, st)
        for j in range(n):
            uu = u[j]
            ii = i[j]
            if j + 2 < n:
                # Load the rows two ratings ahead early, as Go does.
                touch += P[u[j + 2], 0] + Q[i[j + 2], k - 1]
            # Same arithmetic as Go: dot product with four accumulators, and
            # the update p + lr*(err*q - reg*p) written decay*p + g*q.
            d0 = 0.0
            d1 = 0.0
            d2 = 0.0
            d3 = 0.0
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
            if sequential:
                for f in range(k):
                    qif = decay * Q[ii, f] + g * P[uu, f]
                    Q[ii, f] = qif
                    P[uu, f] = decay * P[uu, f] + g * qif
            else:
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
    return mu, bu, bi, P, Q, touch


def predict(model, u, i, lo, hi):
    mu, bu, bi, P, Q, _ = model
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
    ap.add_argument("--bias-init", choices=["zero", "baseline"], default="zero")
    ap.add_argument("--update", choices=["simultaneous", "sequential"], default="simultaneous")
    a = ap.parse_args()
    with open(os.path.join(a.folder, "meta.json")) as f:
        meta = json.load(f)
    nu, ni = meta["num_users"], meta["num_items"]
    tu, ti, tr = load(a.folder, "train")
    su, si, sr = load(a.folder, "test")
    # JIT warm-up on a tiny problem with the same argument types.
    choices = (a.order == "shuffle", a.bias_init == "baseline", a.update == "sequential")
    train(tu[:10], ti[:10], tr[:10], nu, ni, 2, 1, a.lr, a.reg, a.init_std, 0, *choices)
    runs = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        t0 = time.process_time()
        model = train(tu, ti, tr, nu, ni, a.factors, a.epochs, a.lr, a.reg, a.init_std, seed, *choices)
        cpu = time.process_time() - t0
        pred = predict(model, su, si, tr.min(), tr.max())
        rmse = float(np.sqrt(np.mean((pred - sr) ** 2)))
        runs.append({"seed": seed, "cpu_s": cpu, "rmse": rmse})
    import numba
    print(json.dumps({"numba": numba.__version__, "numpy": np.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
