"""Turns a bench/run.sh results folder into results.csv, results.json, a table with ratios against
the peers of the same run (printed), and optionally a PNG chart.

results.jsonl has one line per round of each (mode, server, case). Every figure is reported as the
median across rounds, with its spread (min-max) and the number of rounds behind it; ratios are taken
between medians. results.csv and results.json keep one row per (mode, server, case) with the old
column names (now medians), plus rounds, FIELD_min, FIELD_max; results-rounds.csv and the "rounds"
list of results.json keep every round as measured. Folders from before rounds (no "round" field)
read as one round.

Usage: report.py OUT_DIR [--chart FILE.png]
"""
import csv
import json
import os
import statistics
import sys

COLUMNS = ["mode", "server", "case", "connections", "size", "pipeline", "msgs_per_s", "mib_per_s",
           "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu_us_per_msg", "server_cpu_pct",
           "rss_mib", "errors", "ok", "loadgen_rc", "x_netty_msgs", "x_seed_msgs", "x_seed_p50",
           "x_netty_p99", "x_c_cpu", "x_netty_rss", "error_detail", "note"]
# Figures that get a median and a spread across rounds.
FIGURES = ["msgs_per_s", "mib_per_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu_us_per_msg",
           "user_us_per_msg", "server_cpu_pct", "rss_mib", "client_cpu_pct", "client_cpu_us_per_msg"]
EXTRA_COLUMNS = (["rounds", "client", "client_cpu_pct", "client_cpu_us_per_msg", "x_netty_cpu", "x_asio_cpu", "x_netty_uring_cpu", "x_c_uring_cpu"]
                 + [f"{f}_{end}" for f in FIGURES for end in ("min", "max")])
ROUND_COLUMNS = ["round"] + COLUMNS[:16] + ["client", "client_cpu_pct", "client_cpu_us_per_msg", "user_us_per_msg", "loadavg", "errors", "ok", "loadgen_rc",
                                            "error_detail", "note"]
ORDER = ["coecho-epoll", "coecho-epoll-alt", "coecho-epoll-alt2", "coecho-epoll-base", "coecho-uring", "coecho-uring-alt", "coecho-uring-alt2", "coecho-uring-base", "coecho-uring-plain", "coecho-uring-nopf", "coecho-uring-ds", "coecho-nio", "coecho-vthreads", "coecho-threads", "netty", "netty-uring", "asio", "seed", "c-epoll", "c-uring"]
# A pinned load generator above this share of its core is the bottleneck, not the server.
CLIENT_BOUND_PCT = 90.0


def aggregate(raw):
    """One row per (mode, server, case): medians across rounds, with FIELD_min/FIELD_max/FIELD_n."""
    groups = {}
    for r in raw:
        groups.setdefault((r["mode"], r["server"], r["case"]), []).append(r)
    rows = []
    for (mode, server, case), rs in groups.items():
        rs = sorted(rs, key=lambda r: r.get("round", 1))
        first = rs[0]
        row = {k: first.get(k) for k in ("mode", "server", "case", "connections", "size", "pipeline")}
        row["client"] = first.get("client", "java")
        row["rounds_run"] = len(rs)
        measured = [r for r in rs if r.get("msgs_per_s") is not None]
        row["rounds"] = len(measured)
        for f in FIGURES:
            vals = [r[f] for r in measured if r.get(f) is not None]
            row[f] = round(statistics.median(vals), 3) if vals else None
            row[f + "_min"] = min(vals) if vals else None
            row[f + "_max"] = max(vals) if vals else None
            row[f + "_n"] = len(vals)
        row["errors"] = sum(r.get("errors") or 0 for r in rs) if any(r.get("errors") is not None for r in rs) else None
        detail = {}
        for r in rs:
            for k, v in (r.get("error_detail") or {}).items():
                detail[k] = detail.get(k, 0) + v
        row["error_detail"] = detail
        row["ok"] = all(r.get("ok") for r in rs)
        rcs = [r.get("loadgen_rc") for r in rs if r.get("loadgen_rc")]
        row["loadgen_rc"] = rcs[0] if rcs else (rs[0].get("loadgen_rc"))
        notes = [(f"r{r.get('round', 1)}: " if len(rs) > 1 else "") + r["note"] for r in rs if r.get("note")]
        row["note"] = "; ".join(notes)
        rows.append(row)
    return rows


def ratio(a, b):
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def add_ratios(rows):
    by_key = {(r["mode"], r["case"], r["server"]): r for r in rows}
    for r in rows:
        ref = lambda name: by_key.get((r["mode"], r["case"], name), {})
        netty, seed, c, asio = ref("netty"), ref("seed"), ref("c-epoll"), ref("asio")
        r["x_netty_msgs"] = ratio(r["msgs_per_s"], netty.get("msgs_per_s"))
        r["x_seed_msgs"] = ratio(r["msgs_per_s"], seed.get("msgs_per_s"))
        r["x_seed_p50"] = ratio(r["p50_us"], seed.get("p50_us"))
        r["x_netty_p99"] = ratio(r["p99_us"], netty.get("p99_us"))
        r["x_c_cpu"] = ratio(r["cpu_us_per_msg"], c.get("cpu_us_per_msg"))
        r["x_netty_rss"] = ratio(r["rss_mib"], netty.get("rss_mib"))
        r["x_netty_cpu"] = ratio(r["cpu_us_per_msg"], netty.get("cpu_us_per_msg"))
        r["x_asio_cpu"] = ratio(r["cpu_us_per_msg"], asio.get("cpu_us_per_msg"))
        # The io_uring peers: Netty's io_uring transport and the C io_uring loop (issue 14's targets).
        r["x_netty_uring_cpu"] = ratio(r["cpu_us_per_msg"], ref("netty-uring").get("cpu_us_per_msg"))
        r["x_c_uring_cpu"] = ratio(r["cpu_us_per_msg"], ref("c-uring").get("cpu_us_per_msg"))


def case_key(r):
    return (r["pipeline"] > 1, r["size"], r["connections"])


def sort_rows(rows):
    rank = {s: i for i, s in enumerate(ORDER)}
    modes = {"pinned": 0, "shared": 1}
    return sorted(rows, key=lambda r: (modes.get(r["mode"], 9), case_key(r), rank.get(r["server"], 99)))


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float) and v >= 1000:
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def spread(r, key, digits):
    """'median (min-max)' when more than one round stands behind the figure, else the figure."""
    v = r.get(key)
    if v is None:
        return "-"
    text = fmt(v, digits)
    lo, hi = r.get(key + "_min"), r.get(key + "_max")
    if (r.get(key + "_n") or 0) > 1 and lo is not None and hi is not None:
        text += f" ({fmt(lo, digits)}-{fmt(hi, digits)})"
    n, rounds = r.get(key + "_n"), r.get("rounds")
    if n is not None and rounds is not None and n < rounds:
        text += f" n={n}"  # fewer rounds behind this figure than behind the row
    return text


def table(rows, meta, raw_rows=()):
    present = {r["server"] for r in rows}
    peer_of = {"x_netty_msgs": "netty", "x_seed_msgs": "seed", "x_seed_p50": "seed", "x_netty_p99": "netty",
               "x_netty_cpu": "netty", "x_asio_cpu": "asio", "x_c_cpu": "c-epoll", "x_netty_rss": "netty",
               "x_netty_uring_cpu": "netty-uring", "x_c_uring_cpu": "c-uring"}
    heads = [("case", "case", 0), ("server", "server", 0), ("rounds", "rounds", 0), ("msgs/s", "msgs_per_s", 0),
             ("xNetty", "x_netty_msgs", 2), ("xSeed", "x_seed_msgs", 2), ("p50us", "p50_us", 1),
             ("p50xSeed", "x_seed_p50", 2), ("p99us", "p99_us", 1), ("p99xNetty", "x_netty_p99", 2),
             ("p99.9us", "p999_us", 1), ("cpu us/msg", "cpu_us_per_msg", 2), ("cpu xNetty", "x_netty_cpu", 2),
             ("cpu xAsio", "x_asio_cpu", 2), ("cpu xC", "x_c_cpu", 2),
             ("cpu xNettyU", "x_netty_uring_cpu", 2), ("cpu xCU", "x_c_uring_cpu", 2),
             ("user us/msg", "user_us_per_msg", 2), ("cpu%", "server_cpu_pct", 1),
             ("client%", "client_cpu_pct", 1), ("client us/msg", "client_cpu_us_per_msg", 2), ("RSS MiB", "rss_mib", 1), ("RSS xNetty", "x_netty_rss", 2),
             ("errors", "errors", 0)]
    # A ratio column whose peer is not in this run would be all dashes: leave it out.
    heads = [h for h in heads if peer_of.get(h[1]) is None or peer_of[h[1]] in present]
    # Results from before the client was measured: no client columns.
    heads = [h for h in heads if not (h[1].startswith("client") or h[1] == "user_us_per_msg")
             or any(r.get(h[1]) is not None for r in rows)]
    lines = []
    client_bound = False
    for mode in dict.fromkeys(r["mode"] for r in rows):
        where = ("server on CPU 0 (1 thread), load generator on CPU 1" if mode == "pinned"
                 else "server (2 threads) and load generator share CPUs 0-1")
        n_rounds = max((r.get("rounds_run") or 1) for r in rows if r["mode"] == mode)
        loads = [r["loadavg"] for r in raw_rows if r["mode"] == mode and r.get("loadavg") is not None]
        lines.append(f"\n== {mode}: {where}; load generator: {meta.get('loadgen', '?')}, "
                     f"{meta.get('warmup_s', '?')} s warmup + {meta.get('duration_s', '?')} s per case, "
                     + (f"{n_rounds} rounds, servers alternating ({meta.get('order', 'rotated each round')}): "
                        "median (min-max) across rounds, ratios between medians"
                        if n_rounds > 1 else "1 round (single pass)")
                     + (f"; machine load average {min(loads):.1f}-{max(loads):.1f} on {meta.get('cpus', '?')} CPUs"
                        if loads else ""))
        body = []
        last_case = None
        for r in (r for r in rows if r["mode"] == mode):
            cells = []
            for _, key, digits in heads:
                if key == "case":
                    cells.append("" if r["case"] == last_case else r["case"])
                elif key == "server":
                    cells.append(r["server"])
                elif key == "rounds":
                    run, got = r.get("rounds_run") or 1, r.get("rounds")
                    cells.append(str(run) if got in (None, run) else f"{got} of {run}")
                elif key.startswith("x_") or key == "errors":
                    cells.append(fmt(r.get(key), digits))
                else:
                    cells.append(spread(r, key, digits))
            if (mode == "pinned" and r.get("client_cpu_pct") is not None
                    and r["client_cpu_pct"] >= CLIENT_BOUND_PCT):
                i = [h[1] for h in heads].index("msgs_per_s")
                cells[i] = "*" + cells[i]
                client_bound = True
            if r.get("note") or (r.get("errors") or 0) > 0 or not r.get("ok"):
                extra = r.get("note") or ""
                if r.get("error_detail"):
                    extra = (extra + " " if extra else "") + json.dumps(r["error_detail"])
                cells[-1] += "  " + extra if extra else ""
            body.append(cells)
            last_case = r["case"]
        widths = [max(len(h[0]), *(len(b[i]) for b in body)) if body else len(h[0])
                  for i, h in enumerate(heads)]
        widths[-1] = len(heads[-1][0])
        fmt_row = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                          for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        lines.append(fmt_row([h[0] for h in heads]))
        lines.extend(fmt_row(b) for b in body)
    lines.append("\nx columns: this server's median divided by the peer's median in the same mode and case "
                 "(msgs/s: higher is better; p50, p99, cpu, RSS: lower is better). errors: summed over rounds. "
                 "client%, client us/msg: the load generator's CPU over the measured window (100 = one core) "
                 "and per message.")
    if client_bound:
        lines.append(f"*: client-bound: the pinned load generator used >= {CLIENT_BOUND_PCT:.0f} % of its core; "
                     "msgs/s and latency there measure the client as much as the server (compare cpu us/msg).")
    lines.append("See docs/BENCHMARKS.md.")
    return "\n".join(lines)


def chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no chart: matplotlib is missing; apt-get install python3-matplotlib)", file=sys.stderr)
        return
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fig, axes = plt.subplots(len(modes), 2, figsize=(13, 4.6 * len(modes)), squeeze=False)
    servers = [s for s in ORDER if any(r["server"] == s for r in rows)]
    # One colour per server of this run (tab10 repeats after ten, so larger runs take tab20).
    palette = plt.get_cmap("tab10" if len(servers) <= 10 else "tab20")
    colors = {s: palette(i) for i, s in enumerate(servers)}
    for m, mode in enumerate(modes):
        # Server CPU per echo is the figure to compare (msgs/s is partly the load generator's).
        for col, (key, label) in enumerate([("cpu_us_per_msg", "server CPU per echo (µs)"),
                                            ("p99_us", "p99 latency (µs)")]):
            ax = axes[m][col]
            for s in servers:
                for size, style in ((32, "-"), (4096, "--")):
                    pts = sorted((r["connections"], r[key], r.get(key + "_min"), r.get(key + "_max")) for r in rows
                                 if r["mode"] == mode and r["server"] == s and r["size"] == size
                                 and r["pipeline"] == 1 and r[key])
                    if pts:
                        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                        ax.plot(xs, ys, style, marker="o", ms=4,
                                color=colors[s], label=f"{s} {size} B" if size != 4096 else f"{s} 4 KiB")
                        if any(p[2] is not None and p[3] is not None and p[2] != p[3] for p in pts):
                            lo = [max(0.0, p[1] - (p[2] if p[2] is not None else p[1])) for p in pts]
                            hi = [max(0.0, (p[3] if p[3] is not None else p[1]) - p[1]) for p in pts]
                            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="none", ecolor=colors[s], alpha=0.5,
                                        capsize=2)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("connections")
            ax.set_ylabel(label)
            ax.set_title(f"{label}, {mode}")
            ax.grid(True, which="both", alpha=0.3)
        if axes[m][1].get_legend_handles_labels()[0]:
            axes[m][1].legend(fontsize=7, ncol=2, loc="upper left")
    rounds = max((r.get("rounds_run") or 1) for r in rows)
    fig.suptitle("coecho and peers: server CPU per echo and p99 (solid: 32 B, dashed: 4 KiB)"
                 + (f"; medians of {rounds} rounds, bars min-max" if rounds > 1 else "; one round"))
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    print(f"chart: {path}")


def main():
    out = sys.argv[1]
    chart_path = sys.argv[sys.argv.index("--chart") + 1] if "--chart" in sys.argv else None
    raw = [json.loads(line) for line in open(os.path.join(out, "results.jsonl")) if line.strip()]
    try:
        meta = json.load(open(os.path.join(out, "meta.json")))
    except OSError:
        meta = {}
    raw = sorted(raw, key=lambda r: (r.get("round", 1),))
    rows = aggregate(raw)
    add_ratios(rows)
    rows = sort_rows(rows)
    raw = sorted(sort_rows(raw), key=lambda r: r.get("round", 1))
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS + EXTRA_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in r.items()})
    with open(os.path.join(out, "results-rounds.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ROUND_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in raw:
            w.writerow({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in r.items()})
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": rows, "rounds": raw}, f, indent=1)
    print(table(rows, meta, raw))
    print(f"\nresults: {out}/results.csv (medians), results-rounds.csv (every round), results.json")
    if chart_path and rows:
        chart(rows, chart_path)
        if os.path.abspath(os.path.dirname(chart_path)) != os.path.abspath(out):
            import shutil
            shutil.copy(chart_path, os.path.join(out, os.path.basename(chart_path)))


if __name__ == "__main__":
    main()
