"""Collects one backend's measurements of bench/run.sh (files in --dir), writes the JSON
and prints the table with the targets of issue 7 (met / missed / not applicable)."""
import argparse
import datetime
import json
import os
import platform

p = argparse.ArgumentParser()
for k in ("dir", "backend", "scale", "seconds", "connections", "commit", "out"):
    p.add_argument("--" + k, required=True)
a = p.parse_args()


def raw(name, default=None):
    path = os.path.join(a.dir, name)
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def num(name):
    v = raw(name)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def js(name):
    v = raw(name)
    try:
        return json.loads(v) if v else {}
    except json.JSONDecodeError:
        return {"na": True, "note": v}


MiB = 1024 * 1024
counts = (raw("counts", "") or "").split("|")
count_keys = ["complaints", "customers", "units", "service_orders", "survey_answers", "complaint_events"]
limit = js("limit.json")
limit_pool = js("limit_pool.json")
sched = (raw("sched_counts", "") or "").split("|")
workloads = {}
for f in sorted(os.listdir(a.dir)):
    if f.startswith("w_") and f.endswith(".json"):
        workloads[f[2:-5]] = js(f)

res = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
    "commit": a.commit,
    "backend": a.backend,
    "scale": int(a.scale),
    "seconds_per_workload": float(a.seconds),
    "connections": int(a.connections),
    "data": dict(zip(count_keys, [int(x) for x in counts if x.strip()])),
    "generation_seconds": num("gen_seconds"),
    "db_bytes": num("db_bytes"),
    "db_bytes_end": num("db_bytes_end"),
    "startup_ms": num("startup_ms"),
    "rss_idle_bytes": num("rss_idle"),
    "rss_peak_bytes": num("rss_peak"),
    "workloads": workloads,
    "import_seconds": num("import_seconds"),
    "import_output": raw("import_out"),
    "scheduler_seconds": num("sched_seconds"),
    "scheduler_first": raw("sched_first"),
    "scheduler_again": raw("sched_again"),
    "scheduler_orders": dict(zip(["orders", "units_with_orders", "units", "duplicates"],
                                 [int(x) for x in sched if x.strip()])),
    "limit": limit,
    "limit_pool": limit_pool,
}
with open(a.out, "w", encoding="utf-8") as f:
    json.dump(res, f, ensure_ascii=False, indent=1)


def w(name):
    return workloads.get(name, {"na": True, "note": "not run"})


def fmt_w(d):
    if d.get("na"):
        return "n/a", "n/a", "n/a", "n/a"
    return (f"{d['rps']:,.0f}", f"{d['p50_ms']:.1f}", f"{d['p99_ms']:.1f}", f"{d['errors']}")


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "**missed**")


commit_rate = limit.get("commits_per_s")
rows = []
create = w("create")
ratio = None
if not create.get("na") and commit_rate:
    ratio = create["rps"] / commit_rate
for name, label, target, ok in [
    ("create", "create complaint (API)", "≥ 2,500/s and ≥ 60% of limit",
     None if create.get("na") else (create["rps"] >= 2500 and (ratio or 0) >= 0.6 and create["errors"] == 0)),
    ("move", "move one step (confirm, API)", "", None),
    ("list", "list: status + department, by due (API)", "≥ 3,500/s, p99 ≤ 20 ms",
     None if w("list").get("na") else (w("list")["rps"] >= 3500 and w("list")["p99_ms"] <= 20)),
    ("list-page", "list, same filters (HTML page)", "≥ 3,500/s, p99 ≤ 20 ms",
     None if w("list-page").get("na") else (w("list-page")["rps"] >= 3500 and w("list-page")["p99_ms"] <= 20)),
    ("detail", "complaint detail (HTML page)", "≥ 3,500/s, p99 ≤ 20 ms",
     None if w("detail").get("na") else (w("detail")["rps"] >= 3500 and w("detail")["p99_ms"] <= 20)),
    ("figures", "figures page, 12 months (1 conn.)", "≤ 100 ms per request",
     None if w("figures").get("na") else w("figures")["p99_ms"] <= 100),
    ("figures-all", "figures page, all complaints (1 conn.)", "≤ 100 ms per request",
     None if w("figures-all").get("na") else w("figures-all")["p99_ms"] <= 100),
    ("search-serial", "search serial fragment (API)", "p99 ≤ 50 ms",
     None if w("search-serial").get("na") else w("search-serial")["p99_ms"] <= 50),
    ("search-cn", "search Chinese substring (API)", "p99 ≤ 50 ms",
     None if w("search-cn").get("na") else w("search-cn")["p99_ms"] <= 50),
    ("stats", "study figures (API, 1 conn.)", "", None),
    ("login", "log in (HTML form, Argon2id)", "", None),
]:
    d = w(name)
    rps, p50, p99, err = fmt_w(d)
    conns = d.get("connections", "")
    rows.append(f"| {label} | {conns} | {rps} | {p50} | {p99} | {err} | {target} | {verdict(ok) if target else ''} |")

lines = [
    f"### {a.backend}, scale {a.scale} — {res['date']}, commit {a.commit}",
    "",
    "Data: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in res["data"].items())
    + f"; generated in {res['generation_seconds']} s; database {res['db_bytes'] / MiB:,.0f} MiB"
    if res["db_bytes"] else "",
    "",
    f"| workload | conn. | req/s | p50 ms | p99 ms | errors | target | |",
    "|---|---|---|---|---|---|---|---|",
    *rows,
]
idle = res["rss_idle_bytes"] or 0
peak = res["rss_peak_bytes"] or 0
st = res["startup_ms"]
imp = res["import_seconds"]
sch = res["scheduler_seconds"]
so = res["scheduler_orders"]
once = so.get("duplicates") == 0 and "created 0" in (res["scheduler_again"] or "")
lines += [
    "",
    "| measure | value | target | |",
    "|---|---|---|---|",
    f"| server RSS idle | {idle / MiB:.1f} MiB | ≤ 30 MiB | {verdict(idle <= 30 * MiB)} |",
    f"| server RSS peak (all workloads above) | {peak / MiB:.1f} MiB | ≤ 100 MiB | {verdict(peak <= 100 * MiB)} |",
    f"| start-up to ready (/readyz) | {st:.0f} ms | ≤ 300 ms | {verdict(st <= 300)} |" if st is not None else "| start-up | n/a | | |",
    f"| import 100,000 units (XLSX) | {imp:.1f} s | ≤ 10 s | {verdict(imp <= 10 and 'imported' in (res['import_output'] or ''))} |"
    if imp is not None else "| import | n/a | | |",
    f"| scheduler: a year for {so.get('units', 0):,} units | {sch:.1f} s, {so.get('orders', 0):,} orders, "
    f"{so.get('duplicates', '?')} duplicates, second run: {(res['scheduler_again'] or '').split(' in ')[0]} | ≤ 30 s, each order once | "
    f"{verdict(sch <= 30 and once)} |" if sch is not None else "| scheduler | n/a | | |",
    f"| data generation | {res['generation_seconds']} s | | |",
]
dur = limit.get("durability", {})
lines += [
    "",
    f"Limit (same engine and database, {json.dumps(dur, ensure_ascii=False)}):",
    "",
    "| limit | raw | ours | ours / raw |",
    "|---|---|---|---|",
]
if commit_rate:
    lines.append(f"| single-row durable commits, {limit.get('writers')} writers | {commit_rate:,.0f} /s | "
                 f"{'n/a' if create.get('na') else format(create['rps'], ',.0f') + ' /s (create)'} | "
                 f"{'n/a' if ratio is None else format(ratio * 100, '.0f') + ' %'} |")
if limit_pool.get("commits_per_s"):
    pr = None if create.get("na") else create["rps"] / limit_pool["commits_per_s"]
    lines.append(f"| same, {limit_pool.get('writers')} writers (the server's pool size) | {limit_pool['commits_per_s']:,.0f} /s | "
                 f"| {'n/a' if pr is None else format(pr * 100, '.0f') + ' %'} |")
for key, wl in [("figures_ms", "figures"), ("figures_all_ms", "figures-all")]:
    if key in limit and not w(wl).get("na"):
        ours = w(wl)["p50_ms"]
        lines.append(f"| figures aggregates, {limit.get(key.replace('_ms', '_complaints'), 0):,} complaints "
                     f"({'12 months' if wl == 'figures' else 'all'}) | {limit[key]:.1f} ms | {ours:.1f} ms (page p50) | "
                     f"{ours / max(limit[key], 0.01):.2f}× the raw time |")
if "study_ms" in limit:
    s = w("stats")
    lines.append(f"| study aggregates, {limit.get('study_answers', 0):,} answers | {limit['study_ms']:.1f} ms | "
                 f"{'n/a' if s.get('na') else format(s['p50_ms'], '.1f') + ' ms'} | |")
notes = [f"- {k}: {d.get('note')}" for k, d in workloads.items() if d.get("note")]
# Registration writer counters around the create run: groups, registrations and busy seconds
# before, the same after (SQLite only; zero on PostgreSQL, where registrations commit alone).
wr = [float(x) for x in (raw("writer", "") or "").split()]
secs = w("create").get("seconds")
if len(wr) == 6 and wr[4] > wr[1] and secs:
    groups, regs, busy = wr[3] - wr[0], wr[4] - wr[1], wr[5] - wr[2]
    res["writer"] = {"groups": groups, "registrations": regs, "busy_seconds": busy, "load_seconds": secs}
    notes.append(f"- create: the registration writer was busy {100 * busy / secs:.0f} % of the run, "
                 f"{regs / max(groups, 1):.1f} registrations per transaction, "
                 f"{1000 * busy / regs:.3f} ms of writer time per registration, "
                 + ("at raised CPU priority" if raw("writer_priority", "0").strip() == "1"
                    else "at normal CPU priority (raising it was refused)"))
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(res, f, ensure_ascii=False, indent=1)
notes += [f"- {k}: first error: {d.get('first_error')}" for k, d in workloads.items() if d.get("first_error")]
if notes:
    lines += ["", "Notes:", *notes]
print("\n".join(lines))
with open(a.out.replace(".json", ".md"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
