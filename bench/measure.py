"""Measures latency of API requests against a running aftersales server; prints a table."""
import argparse
import json
import os
import statistics
import time
import urllib.parse
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--token", required=True)
p.add_argument("--requests", type=int, default=50)
p.add_argument("--backend", default="sqlite")
p.add_argument("--scale", default="1")
p.add_argument("--load-seconds", type=float, default=0.0)
p.add_argument("--pid", type=int, default=0)
p.add_argument("--db-file", default="")
p.add_argument("--imports", default="")
p.add_argument("--out", default="")
a = p.parse_args()


def get(path):
    req = urllib.request.Request(a.base + path, headers={"Authorization": "Bearer " + a.token})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        body = r.read()
    return time.perf_counter() - t, json.loads(body)


# Real fragments taken from the data: a serial's last 6 characters, a mobile number's middle.
_, units = get("/api/v1/search?q=" + urllib.parse.quote("SN-2025") + "&kind=equipment")
serial = units[0]["title"].split(" ")[0] if units else "SN-2025"
_, custs = get("/api/v1/search?q=" + urllib.parse.quote("有限公司") + "&kind=customer")

cases = [
    ("search 2 Chinese chars (华东)", "/api/v1/search?q=" + urllib.parse.quote("华东")),
    ("search company word (恒通)", "/api/v1/search?q=" + urllib.parse.quote("恒通")),
    ("search serial tail (6)", "/api/v1/search?q=" + urllib.parse.quote(serial[-6:])),
    ("search serial prefix", "/api/v1/search?q=" + urllib.parse.quote(serial[:9])),
    ("search order number", "/api/v1/search?q=SO2024000123"),
    ("search no match", "/api/v1/search?q=" + urllib.parse.quote("不存在的客户")),
    ("list departments", "/api/v1/departments"),
    ("audit page", "/api/v1/audit?per_page=50"),
]
rows = []
for name, path in cases:
    get(path)  # warm
    times = []
    hits = 0
    for _ in range(a.requests):
        t, body = get(path)
        times.append(t * 1000)
        hits = len(body) if isinstance(body, list) else len(body.get("items", []))
    times.sort()
    rows.append({
        "case": name,
        "hits": hits,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
    })

rss = ""
if a.pid:
    try:
        with open(f"/proc/{a.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    rss = line.split(":")[1].strip()
    except OSError:
        pass
size = os.path.getsize(a.db_file) if a.db_file and os.path.exists(a.db_file) else 0

print(f"\nbackend={a.backend} scale={a.scale} (≈{int(a.scale) * 3000:,} units) "
      f"load={a.load_seconds:.1f}s server peak RSS={rss or '?'}"
      + (f" sqlite file={size / 1e6:.0f} MB" if size else ""))
print(f"{'case':34} {'hits':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
for r in rows:
    print(f"{r['case']:34} {r['hits']:>5} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8}")
imports = [kv.split("=") for kv in a.imports.split()]
if imports:
    print(f"\n{'import of 100,000 rows':34} {'seconds':>8}")
    for kind, secs in imports:
        print(f"{kind:34} {float(secs):>8.2f}")
if a.out:
    with open(a.out, "w") as f:
        json.dump({"backend": a.backend, "scale": a.scale, "load_seconds": a.load_seconds,
                   "peak_rss": rss, "db_bytes": size, "cases": rows,
                   "imports_100k_seconds": {k: float(v) for k, v in imports}}, f, ensure_ascii=False, indent=1)
