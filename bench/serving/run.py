#!/usr/bin/python3
"""bench/serving driver: Plinth's inference service side by side with the
bare net/http and grpc-go limits and FastAPI + XGBoost, in one run.

Every server runs under `taskset -c 0`, every load generator under
`taskset -c 1`, on 127.0.0.1 only. The servers compared with each other
run at once and are measured in turn: at each concurrency a warm-up each,
then REPEATS rounds of one DURATION-second run per server; the median run
(by req/s) is reported, with the range. Then the hot swap and the memory
checks.
Writes bench/results/serving.json and prints a table. Called by run.sh.
"""
import argparse
import atexit
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CONCURRENCY = [1, 8, 64]


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url, timeout=60, headers=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if http("GET", url, headers=headers)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("not ready: " + url)


# Every server this run starts, killed at exit if still running, so that a
# failed run leaves nothing holding the ports for the next one.
STARTED = []
atexit.register(lambda: [p.kill() for p in STARTED if p.poll() is None])


def start(cmd, **kw):
    p = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    STARTED.append(p)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


UNITS = {"us": 1, "ms": 1000, "s": 1000000}
CLK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """(user, system) CPU ticks of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def parse_wrk(out):
    def lat(pct):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": rps, "p50_us": lat(50), "p99_us": lat(99), "errors": errors}


def wrk(url, body_file, c, seconds, lua_dir, token=None, rt=False):
    lua = os.path.join(lua_dir, "post.lua")
    with open(body_file) as f:
        body = f.read()
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' % json.dumps(body))
        if token:
            f.write('wrk.headers["Authorization"] = %s\n' % json.dumps("Bearer " + token))
    out = subprocess.run((["chrt", "-f", "1"] if rt else []) + ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % c, "-d%ds" % seconds, "--latency", "-s", lua, url],
                         capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def grpcload(binary, addr, model, sample, c, seconds, token=None):
    cmd = ["taskset", "-c", "1", binary, "-addr", addr, "-model", model, "-sample", sample,
           "-c", str(c), "-d", "%ds" % seconds, "-warmup", "0s"]
    if token:
        cmd += ["-token", token]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def timed(fn, c, seconds, pid):
    """One run with the server's CPU over it (grpcload's own connection
    set-up is inside the window; the warm-up run before absorbs it)."""
    u0, s0 = cpu_ticks(pid)
    t0 = time.time()
    r = fn(c, seconds)
    wall = time.time() - t0
    u1, s1 = cpu_ticks(pid)
    n = r["rps"] * seconds
    r["cpu_user_us_per_req"] = round((u1 - u0) / CLK * 1e6 / n, 1) if n else None
    r["cpu_sys_us_per_req"] = round((s1 - s0) / CLK * 1e6 / n, 1) if n else None
    r["server_cpu_pct"] = round(100.0 * ((u1 - u0) + (s1 - s0)) / CLK / wall, 1)
    return r


def row_of(name, proto, c, runs):
    """The row of one server at one concurrency: the median run (by req/s)
    with the range and the errors of all runs."""
    runs = sorted(runs, key=lambda r: r["rps"])
    med = runs[len(runs) // 2]
    row = {"server": name, "protocol": proto, "concurrency": c, "rps": round(med["rps"], 1),
           "p50_us": med["p50_us"], "p99_us": med["p99_us"], "errors": sum(r["errors"] for r in runs),
           "rps_range": [round(runs[0]["rps"], 1), round(runs[-1]["rps"], 1)],
           "server_cpu_pct": med["server_cpu_pct"], "cpu_user_us_per_req": med["cpu_user_us_per_req"],
           "cpu_sys_us_per_req": med["cpu_sys_us_per_req"]}
    print("  %-28s c=%-3d %9.0f req/s  p50 %7.0f us  p99 %8.0f us  cpu %5.1f%% = %5.1f user + %5.1f sys us/req  errors %d" % (
        name, c, row["rps"], row["p50_us"] or 0, row["p99_us"] or 0, row["server_cpu_pct"],
        row["cpu_user_us_per_req"] or 0, row["cpu_sys_us_per_req"] or 0, row["errors"]), flush=True)
    return row


def set_fifo(pids, on):
    """Puts every thread of the processes under SCHED_FIFO priority 1 (on)
    or back under SCHED_OTHER. Threads they start later inherit it."""
    policy, prio = (os.SCHED_FIFO, 1) if on else (os.SCHED_OTHER, 0)
    for pid in pids:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                os.sched_setscheduler(int(tid), policy, os.sched_param(prio))
            except ProcessLookupError:
                pass


def latency_c1(group, args):
    """p50 and p99 at concurrency 1 with the servers and wrk under
    SCHED_FIFO, as bench/serving's baselines measure the c=1 tail: the
    other work of the shared box then cannot get in at each wake-up. The
    servers are interleaved as in measure; each figure is the median over
    the repeats. group: (name, fn(c, seconds, rt), pid), the bare limit
    first."""
    pids = sorted({pid for _, _, pid in group})
    set_fifo(pids, True)
    try:
        for _, fn, _ in group:
            fn(1, args.warmup, True)
        runs = {name: [] for name, _, _ in group}
        for _ in range(args.repeats):
            for name, fn, _ in group:
                runs[name].append(fn(1, args.duration, True))
    finally:
        set_fifo(pids, False)
    out = {}
    for name, _, _ in group:
        rs = runs[name]
        out[name] = {"p50_us": statistics.median(r["p50_us"] for r in rs), "p99_us": statistics.median(r["p99_us"] for r in rs),
                     "rps": round(statistics.median(r["rps"] for r in rs), 1), "errors": sum(r["errors"] for r in rs),
                     "p50_us_runs": [r["p50_us"] for r in rs]}
        print("  %-28s c=1 SCHED_FIFO  p50 %5.0f us  p99 %6.0f us  %7.0f req/s  errors %d  (p50 runs %s)" % (
            name, out[name]["p50_us"], out[name]["p99_us"], out[name]["rps"], out[name]["errors"], out[name]["p50_us_runs"]), flush=True)
    return out


def measure(group, args):
    """Measures servers that are compared with each other, interleaved: at
    each concurrency every server gets a warm-up, then the repeats go round
    the servers (bare, plinth, ..., bare, plinth, ...), so that a slow
    minute on the shared box falls on all of them rather than on whichever
    ran then. group: (name, proto, fn(c, seconds), pid) tuples, all
    servers running at once on core 0 (the idle ones cost nothing), the
    bare limit first. Each row also gets its paired ratios: its req/s over
    the bare server's in the same round, a minute apart at most, and
    their median."""
    rows = []
    for c in CONCURRENCY:
        for _, _, fn, _ in group:
            fn(c, args.warmup)
        runs = {name: [] for name, _, _, _ in group}
        for _ in range(args.repeats):
            for name, _, fn, pid in group:
                runs[name].append(timed(fn, c, args.duration, pid))
        bare = group[0][0]
        for name, proto, _, _ in group:
            row = row_of(name, proto, c, runs[name])
            if name != bare:
                paired = [r["rps"] / b["rps"] for r, b in zip(runs[name], runs[bare])]
                row["paired_ratios"] = [round(x, 3) for x in paired]
                row["paired_ratio_median"] = round(statistics.median(paired), 3)
            rows.append(row)
    return rows


def bearer(token, **more):
    h = dict(more)
    if token:
        h["Authorization"] = "Bearer " + token
    return h


def register(base, admin, name, data, versions=1):
    sha = hashlib.sha256(data).hexdigest()
    js = bearer(admin, **{"Content-Type": "application/json"})
    http("POST", base + "/v1/models", json.dumps({"name": name}).encode(), js)
    st, b = http("POST", base + "/v1/artifacts", data, bearer(admin, **{"X-Plinth-Sha256": sha, "Content-Type": "application/octet-stream"}))
    assert st in (200, 201), b
    for _ in range(versions):
        st, b = http("POST", base + "/v1/models/%s/versions" % name, json.dumps({"artifact_sha256": sha, "format": "xgboost-json"}).encode(), js)
        assert st == 201, b
    set_champion(base, admin, name, 1)


def set_champion(base, admin, name, v):
    # forced past the validation gate (the admin scope; audited), which
    # the serving benchmark does not exercise
    body = {"version": v, "force": True, "reason": "bench/serving"}
    st, b = http("PUT", base + "/v1/models/%s/aliases/champion" % name, json.dumps(body).encode(), bearer(admin, **{"Content-Type": "application/json"}))
    assert st == 200, b


# The rate limiter runs on every request but never denies: predict is a
# read-class operation (100/s per principal by default).
RATE_FLAGS = ["--ratelimit.read-rate=1000000", "--ratelimit.read-burst=1000",
              "--ratelimit.write-rate=1000000", "--ratelimit.write-burst=1000"]


def start_plinth(args, tmp, auth_on, http_port, grpc_port, log_sample_rate=None, tag=None):
    """plinth serve on core 0; with auth on, returns the bootstrap admin key
    (printed once on stdout) and a new API key with scope predict.
    log_sample_rate: the run's (--log-sample-rate) unless given."""
    tag = tag or ("auth" if auth_on else "noauth")
    out_path = os.path.join(tmp, "plinth-%s.out" % tag)
    cmd = ["taskset", "-c", "0", os.path.join(args.bin, "plinth"), "serve", "--data.dir", os.path.join(tmp, "data-" + tag),
           "--server.http-addr", "127.0.0.1:%d" % http_port, "--server.grpc-addr", "127.0.0.1:%d" % grpc_port,
           "--inference.log-sample-rate", log_sample_rate or args.log_sample_rate, "--log.level", "warn"] + RATE_FLAGS
    if not auth_on:
        cmd.append("--auth.disabled")
    with open(out_path, "w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    STARTED.append(p)
    base = "http://127.0.0.1:%d" % http_port
    wait_http(base + "/readyz")
    if not auth_on:
        return p, base, None, None
    with open(out_path) as f:
        admin = re.search(r"plk_[A-Za-z0-9_-]+", f.read()).group(0)
    st, b = http("POST", base + "/v1/apikeys", json.dumps({"name": "bench", "scopes": ["predict"]}).encode(),
                 bearer(admin, **{"Content-Type": "application/json"}))
    assert st == 201, b
    return p, base, admin, json.loads(b)["key"]


def rss_mb(pid, field="VmRSS"):
    """A process's resident set (or, with field VmHWM, its peak) in MB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0


def load_ten_300(tmp, registry_base, admin, inference_base, token):
    """Registers the 300-tree model as ten models m300-0..9 and waits until
    the inference service has them all ready, then a second more."""
    with open(os.path.join(tmp, "xgb300.json"), "rb") as f:
        m300 = f.read()
    for i in range(10):
        register(registry_base, admin, "m300-%d" % i, m300)
    for i in range(10):
        wait_http(inference_base + "/v2/models/m300-%d/ready" % i, headers=bearer(token))
    time.sleep(1)


def memory_split(args, tmp, grpcload_bin):
    """RSS of the inference target as it deploys on its own: `plinth serve
    --target=inference` against a registry process (which also runs the
    embedded NATS server, with a listener, standing in for the JetStream
    cluster). The inference process has the gateway with auth on (an API
    key with scope predict, its own SQLite for keys), the rate limiter and
    1% prediction logs; the registry is internal (--auth.disabled: the
    registry client sends no credentials yet). It serves the 100-tree
    model under load (wrk and grpcload at c=64), then loads ten 300-tree
    models; RSS is read 1 s after the last is ready. The REST runs (c=8
    and c=64, one each, after the other servers have stopped) give the
    latency of this layout, whose process holds no monitor state or NATS
    server for its garbage collector to mark."""
    reg = start([os.path.join(args.bin, "plinth"), "serve", "--target=registry", "--data.dir", os.path.join(tmp, "split-registry"),
                 "--server.http-addr", "127.0.0.1:18610", "--server.grpc-addr", "127.0.0.1:18611", "--nats.listen", "127.0.0.1:18622",
                 "--log.level", "warn", "--auth.disabled"])
    rbase = "http://127.0.0.1:18610"
    wait_http(rbase + "/readyz")
    out_path = os.path.join(tmp, "plinth-inference.out")
    cmd = ["taskset", "-c", "0", os.path.join(args.bin, "plinth"), "serve", "--target=inference", "--data.dir", os.path.join(tmp, "split-inference"),
           "--server.http-addr", "127.0.0.1:18600", "--server.grpc-addr", "127.0.0.1:18601", "--nats.url", "nats://127.0.0.1:18622",
           "--registry.addr", "127.0.0.1:18611", "--inference.log-sample-rate", args.log_sample_rate, "--log.level", "warn"] + RATE_FLAGS
    with open(out_path, "w") as out:
        inf = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    STARTED.append(inf)
    base = "http://127.0.0.1:18600"
    try:
        wait_http(base + "/readyz")
        with open(out_path) as f:
            admin = re.search(r"plk_[A-Za-z0-9_-]+", f.read()).group(0)
        st, b = http("POST", base + "/v1/apikeys", json.dumps({"name": "bench", "scopes": ["predict"]}).encode(),
                     bearer(admin, **{"Content-Type": "application/json"}))
        assert st == 201, b
        token = json.loads(b)["key"]
        with open(os.path.join(tmp, "xgb100.json"), "rb") as f:
            register(rbase, None, "bench", f.read())
        wait_http(base + "/v2/models/bench/ready", headers=bearer(token))
        rest = {c: wrk(base + "/v1/models/bench:predict", os.path.join(tmp, "sample.json"), c, args.duration, tmp, token) for c in (8, 64)}
        for c, r in rest.items():
            print("  inference target alone, /v1 predict, auth on  c=%-3d %9.0f req/s  p50 %7.0f us  p99 %8.0f us  errors %d" % (
                c, r["rps"], r["p50_us"], r["p99_us"], r["errors"]), flush=True)
        load = list(rest.values()) + [grpcload(grpcload_bin, "127.0.0.1:18601", "bench", os.path.join(tmp, "sample.json"), 64, args.duration, token)]
        load_ten_300(tmp, rbase, None, base, token)
        return {"rss_mb": round(rss_mb(inf.pid), 1), "peak_rss_mb": round(rss_mb(inf.pid, "VmHWM"), 1),
                "registry_process_rss_mb": round(rss_mb(reg.pid), 1), "errors_under_load": sum(r["errors"] for r in load),
                "rest_c8": rest[8], "rest_c64": rest[64],
                "measured": "plinth serve --target=inference --nats.url=<registry process's embedded NATS> --registry.addr=<registry process>, "
                            "auth on; after wrk at c=8 and c=64 (rest_c8, rest_c64) and grpcload at c=64, %d s each, on the 100-tree model, then ten 300-tree models loaded" % args.duration}
    finally:
        stop(inf)
        stop(reg)


def hot_swap(base, admin, token, args, tmp, steady_row_p99):
    """wrk at c=8 for the run's duration, once steady and at once after it
    with the champion flipping between versions 1 and 2 ten times; the p99
    with swaps is compared with the adjacent steady run's (same process,
    same shape, a minute apart), and with the c=8 row's for reference."""
    steady = wrk(base + "/v1/models/bench:predict", os.path.join(tmp, "sample.json"), 8, args.duration, tmp, token)
    def flip():
        time.sleep(1)
        for i in range(10):
            set_champion(base, admin, "bench", 2 if i % 2 == 0 else 1)
            time.sleep(max(0.2, (args.duration - 2) / 10.0))
    t = threading.Thread(target=flip)
    t.start()
    r = wrk(base + "/v1/models/bench:predict", os.path.join(tmp, "sample.json"), 8, args.duration, tmp, token)
    t.join()
    return {"swaps": 10, "failed_requests": r["errors"], "rps": r["rps"], "p50_us": r["p50_us"], "p99_us": r["p99_us"],
            "steady_p99_us": steady["p99_us"], "steady_rps": steady["rps"], "steady_failed_requests": steady["errors"],
            "p99_ratio_vs_steady": round(r["p99_us"] / steady["p99_us"], 2) if steady["p99_us"] else None,
            "steady_p99_us_c8_row": steady_row_p99,
            "p99_ratio_vs_c8_row": round(r["p99_us"] / steady_row_p99, 2) if steady_row_p99 else None}


def print_only(rows, bare):
    """The rows of an --only run, each with its ratio to the bare server at
    the same concurrency."""
    for r in rows:
        b = next(x for x in rows if x["server"] == bare and x["concurrency"] == r["concurrency"])
        print("%-28s c=%-3d %9.0f req/s  p50 %6.0f us  p99 %6.0f us  %.3fx %s" % (
            r["server"], r["concurrency"], r["rps"], r["p50_us"], r["p99_us"], r["rps"] / b["rps"], bare), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--log-sample-rate", default="0.01")
    ap.add_argument("--only", choices=["all", "rest", "grpc"], default="all",
                    help="measure one protocol's servers, print the rows and write nothing: a quick check (the results need all)")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    tmp = tempfile.mkdtemp(prefix="bench-serving-")
    trained = json.loads(subprocess.run(["/usr/bin/python3", os.path.join(here, "train.py"), tmp], capture_output=True, text=True, check=True).stdout)
    sample, oip = os.path.join(tmp, "sample.json"), os.path.join(tmp, "oip.json")
    rows, notes = [], {}

    grpcload_bin = os.path.join(args.bin, "grpcload")
    print("starting: bare net/http + encoding/json and bare grpc-go (dot product); FastAPI + uvicorn (uvloop, httptools) + XGBoost; "
          "plinth (all targets, embedded stores) with auth on (an API key with scope predict) and with --auth.disabled", flush=True)
    bare_http = start([os.path.join(args.bin, "httpdot"), "-addr", "127.0.0.1:18500"])
    bare_grpc = start([os.path.join(args.bin, "grpcdot"), "-addr", "127.0.0.1:18501"])
    floor = start([os.path.join(args.bin, "tcpfloor"), "-addr", "127.0.0.1:18503"])
    http_floor = start([os.path.join(args.bin, "httpfloor"), "-addr", "127.0.0.1:18504"])
    fastapi = start(["/usr/bin/python3", os.path.join(root, "bench", "peers", "fastapi_xgb.py"), os.path.join(tmp, "xgb100.json"), "18502"])
    deadline = time.time() + 60
    while True:
        try:
            if http("POST", "http://127.0.0.1:18502/predict", open(sample, "rb").read(), {"Content-Type": "application/json"})[0] == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError("FastAPI did not start")
        time.sleep(0.2)
    for name, p in (("httpdot", bare_http), ("grpcdot", bare_grpc), ("tcpfloor", floor), ("httpfloor", http_floor)):
        if p.poll() is not None:
            raise RuntimeError("%s exited (is its port taken?)" % name)
    plinth = {}
    # auth on, auth off, and auth on logging every prediction (the default
    # --inference.log-sample-rate=1) to the embedded NATS, whose monitor
    # consumes them in the same process on the same core
    for key, auth_on, ports, rate in (("auth", True, (18600, 18601), None), ("noauth", False, (18610, 18611), None),
                                      ("log1", True, (18620, 18621), "1")):
        sfx = {"auth": "", "noauth": "-noauth", "log1": "-log1"}[key]
        p, base, admin, token = start_plinth(args, tmp, auth_on, *ports, log_sample_rate=rate, tag=key)
        with open(os.path.join(tmp, "xgb100.json"), "rb") as f:
            register(base, admin, "bench", f.read(), versions=2)
        wait_http(base + "/v2/models/bench/ready", headers=bearer(token))
        st, b = http("POST", base + "/v1/models/bench:predict", open(sample, "rb").read(), bearer(token, **{"Content-Type": "application/json"}))
        assert st == 200, b
        got = json.loads(b)["score"]
        notes["score_check" + sfx] = {"plinth": got, "xgboost": trained["expected_score"]}
        assert abs(got - trained["expected_score"]) < 1e-5, (got, trained)
        plinth[key] = (p, base, admin, token, "127.0.0.1:%d" % ports[1])
    time.sleep(0.5)
    pa, base, admin, token, gaddr = plinth["auth"]
    pn, nbase, _, _, ngaddr = plinth["noauth"]
    pl, lbase, _, ltoken, _ = plinth["log1"]

    rest = [
        ("bare-net/http", "rest", lambda c, d: wrk("http://127.0.0.1:18500/predict", sample, c, d, tmp), bare_http.pid),
        ("plinth-v1-predict", "rest", lambda c, d: wrk(base + "/v1/models/bench:predict", sample, c, d, tmp, token), pa.pid),
        ("plinth-v1-predict-noauth", "rest", lambda c, d: wrk(nbase + "/v1/models/bench:predict", sample, c, d, tmp), pn.pid),
        ("plinth-v1-predict-log1", "rest", lambda c, d: wrk(lbase + "/v1/models/bench:predict", sample, c, d, tmp, ltoken), pl.pid),
        ("plinth-oip-rest-infer", "rest", lambda c, d: wrk(base + "/v2/models/bench/infer", oip, c, d, tmp, token), pa.pid),
        ("fastapi-uvicorn-xgboost", "rest", lambda c, d: wrk("http://127.0.0.1:18502/predict", sample, c, d, tmp), fastapi.pid),
    ]
    grpc = [
        ("bare-grpc-go", "grpc", lambda c, d: grpcload(grpcload_bin, "127.0.0.1:18501", "bench", sample, c, d), bare_grpc.pid),
        ("plinth-oip-grpc", "grpc", lambda c, d: grpcload(grpcload_bin, gaddr, "bench", sample, c, d, token), pa.pid),
        ("plinth-oip-grpc-noauth", "grpc", lambda c, d: grpcload(grpcload_bin, ngaddr, "bench", sample, c, d), pn.pid),
    ]
    if args.only != "grpc":
        print("REST, interleaved", flush=True)
        rows += measure(rest, args)
        print("REST at concurrency 1 under SCHED_FIFO, interleaved, with the box's round-trip floor", flush=True)
        c1 = latency_c1([
            ("bare-net/http", lambda c, d, rt: wrk("http://127.0.0.1:18500/predict", sample, c, d, tmp, rt=rt), bare_http.pid),
            ("tcpfloor", lambda c, d, rt: wrk("http://127.0.0.1:18503/predict", sample, c, d, tmp, rt=rt), floor.pid),
            ("httpfloor", lambda c, d, rt: wrk("http://127.0.0.1:18504/predict", sample, c, d, tmp, rt=rt), http_floor.pid),
            ("plinth-v1-predict", lambda c, d, rt: wrk(base + "/v1/models/bench:predict", sample, c, d, tmp, token, rt=rt), pa.pid),
            ("plinth-v1-predict-noauth", lambda c, d, rt: wrk(nbase + "/v1/models/bench:predict", sample, c, d, tmp, rt=rt), pn.pid),
        ], args)
        if args.only == "rest":
            print_only(rows, "bare-net/http")
            return
    print("gRPC, interleaved", flush=True)
    rows += measure(grpc, args)
    if args.only == "grpc":
        print_only(rows, "bare-grpc-go")
        return
    for p in (bare_http, bare_grpc, floor, http_floor, pn, pl, fastapi):
        stop(p)

    steady = next(r for r in rows if r["server"] == "plinth-v1-predict" and r["concurrency"] == 8)["p99_us"]
    print("hot swap under load", flush=True)
    swap = hot_swap(base, admin, token, args, tmp, steady)
    print("  %s" % swap, flush=True)
    print("memory: ten 300-tree models, all targets in one process", flush=True)
    load_ten_300(tmp, base, admin, base, token)
    rss = rss_mb(pa.pid)
    print("  RSS %.1f MB" % rss, flush=True)
    stop(pa)

    print("memory: the inference target on its own, ten 300-tree models", flush=True)
    mem = memory_split(args, tmp, grpcload_bin)
    print("  %s" % mem, flush=True)


    def at(server, c):
        return next(r for r in rows if r["server"] == server and r["concurrency"] == c)
    fastapi_best = max(r["rps"] for r in rows if r["server"] == "fastapi-uvicorn-xgboost")
    v1 = at("plinth-v1-predict", 64)["rps"]
    bare64 = at("bare-net/http", 64)["rps"]
    result = {
        "benchmark": "serving",
        "setup": {"loadavg_at_end": os.getloadavg(), "server_cpu": "taskset -c 0", "load_cpu": "taskset -c 1", "duration_s": args.duration, "repeats": args.repeats,
                  "order": "all servers of a protocol run at once on core 0; at each concurrency each gets a warm-up, then the repeats go round them (bare, plinth, plinth-noauth, ...), so drifts of the shared box fall on all of them; the median run per server is shown",
                  "warmup_s": args.warmup, "payload": "{\"features\": [30 floats, full float64 precision]} (%d B)" % os.path.getsize(sample),
                  "model": "XGBoost 1.7 binary:logistic, 100 trees, max_depth 6, make_classification(50000x30, 15 informative, seed 42)",
                  "plinth": "plinth serve (all targets, embedded NATS/SQLite/files), --inference.log-sample-rate=%s %s; the *-log1 row: auth on and --inference.log-sample-rate=1 (the default: every prediction to PREDICTIONS, consumed by the monitor in the same process)" % (args.log_sample_rate, " ".join(RATE_FLAGS)),
                  "auth": "plinth rows: the gateway on, wrk and grpcload send an API key with scope predict (cached per --auth.cache-ttl, default 5s); *-noauth rows: --auth.disabled. The rate limiter runs on every request; its flags are raised so it never denies",
                  "paired": "paired_ratios: each run's req/s over the bare server's run in the same round (adjacent in time); paired_ratio_median their median. ratio_* are ratios of the median runs",
                  "cpu": "cpu_*_us_per_req: the server process's user and system CPU (/proc/PID/stat) over the run divided by the requests answered",
                  "latency_c1_fifo": "the c=1 REST points again with every server thread and wrk under SCHED_FIFO priority 1 (chrt -f 1; the kernel still leaves others 5%), medians over the repeats; tcpfloor (bench/serving/bare/tcpfloor) answers each request with a fixed response without parsing it: the box's round-trip floor for any Go server; httpfloor (bench/serving/bare/httpfloor) is net/http with a handler that drains the body and writes a fixed answer: the floor for any net/http server",
                  "rest_load": "wrk -t1 --latency", "grpc_load": "bench/serving/grpcload (one HTTP/2 connection)"},
        "ratio_vs_bare_http": round(v1 / bare64, 3),
        "paired_ratio_vs_bare_http": at("plinth-v1-predict", 64)["paired_ratio_median"],
        "ratio_vs_fastapi": round(v1 / fastapi_best, 2),
        "ratio_vs_fastapi_same_c64": round(v1 / at("fastapi-uvicorn-xgboost", 64)["rps"], 2),
        "ratio_noauth_vs_bare_http": round(at("plinth-v1-predict-noauth", 64)["rps"] / bare64, 3),
        "ratio_log1_vs_bare_http": round(at("plinth-v1-predict-log1", 64)["rps"] / bare64, 3),
        "ratio_grpc_noauth_vs_bare_grpc": round(at("plinth-oip-grpc-noauth", 64)["rps"] / at("bare-grpc-go", 64)["rps"], 3),
        "p50_us_c1_v1_noauth": at("plinth-v1-predict-noauth", 1)["p50_us"],
        "p50_us_c1_bare_http": at("bare-net/http", 1)["p50_us"],
        "ratio_oip_rest_vs_bare_http": round(at("plinth-oip-rest-infer", 64)["rps"] / at("bare-net/http", 64)["rps"], 3),
        "ratio_grpc_vs_bare_grpc": round(at("plinth-oip-grpc", 64)["rps"] / at("bare-grpc-go", 64)["rps"], 3),
        "paired_ratio_grpc_vs_bare_grpc": at("plinth-oip-grpc", 64)["paired_ratio_median"],
        "p50_us_c1_v1": at("plinth-v1-predict", 1)["p50_us"],
        "p50_us_c1_fifo": {name: r["p50_us"] for name, r in c1.items()},
        "latency_c1_fifo": c1,
        "rss_mb_ten_300_tree_models": mem["rss_mb"],
        "memory_inference_target": mem,
        "rss_mb_all_targets_ten_300_tree_models": round(rss, 1),
        "hot_swap": swap,
        "checks": notes,
        "rows": rows,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "serving.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print()
    print("%-26s %-5s %4s %10s %9s %9s %6s %8s %8s" % ("server", "proto", "c", "req/s", "p50 us", "p99 us", "cpu%", "user/req", "sys/req"))
    for r in rows:
        print("%-26s %-5s %4d %10.0f %9.0f %9.0f %6.1f %8.1f %8.1f" % (r["server"], r["protocol"], r["concurrency"], r["rps"], r["p50_us"] or 0, r["p99_us"] or 0,
              r["server_cpu_pct"], r["cpu_user_us_per_req"] or 0, r["cpu_sys_us_per_req"] or 0))
    for k in ("ratio_vs_bare_http", "paired_ratio_vs_bare_http", "paired_ratio_grpc_vs_bare_grpc", "ratio_vs_fastapi", "ratio_vs_fastapi_same_c64", "ratio_noauth_vs_bare_http", "ratio_log1_vs_bare_http", "ratio_oip_rest_vs_bare_http",
              "ratio_grpc_vs_bare_grpc", "ratio_grpc_noauth_vs_bare_grpc", "p50_us_c1_v1", "p50_us_c1_v1_noauth", "p50_us_c1_bare_http", "rss_mb_ten_300_tree_models",
              "rss_mb_all_targets_ten_300_tree_models", "p50_us_c1_fifo"):
        print("%-30s %s" % (k, result[k]))
    print("hot swap: %s" % swap)


if __name__ == "__main__":
    sys.exit(main())
