"""Turns a bench/run.sh results folder into results.csv, results.json, a table with ratios against
the peers of the same run (printed), and optionally a PNG chart.

Usage: report.py OUT_DIR [--chart FILE.png]
"""
import csv
import json
import os
import sys

COLUMNS = ["mode", "server", "case", "connections", "size", "pipeline", "msgs_per_s", "mib_per_s",
           "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu_us_per_msg", "server_cpu_pct",
           "rss_mib", "errors", "ok", "loadgen_rc", "x_netty_msgs", "x_seed_msgs", "x_seed_p50",
           "x_netty_p99", "x_c_cpu", "x_netty_rss", "error_detail", "note"]
ORDER = ["coecho-epoll", "coecho-nio", "coecho-vthreads", "coecho-threads", "netty", "seed", "c-epoll"]


def ratio(a, b):
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def add_ratios(rows):
    by_key = {(r["mode"], r["case"], r["server"]): r for r in rows}
    for r in rows:
        ref = lambda name: by_key.get((r["mode"], r["case"], name), {})
        netty, seed, c = ref("netty"), ref("seed"), ref("c-epoll")
        r["x_netty_msgs"] = ratio(r["msgs_per_s"], netty.get("msgs_per_s"))
        r["x_seed_msgs"] = ratio(r["msgs_per_s"], seed.get("msgs_per_s"))
        r["x_seed_p50"] = ratio(r["p50_us"], seed.get("p50_us"))
        r["x_netty_p99"] = ratio(r["p99_us"], netty.get("p99_us"))
        r["x_c_cpu"] = ratio(r["cpu_us_per_msg"], c.get("cpu_us_per_msg"))
        r["x_netty_rss"] = ratio(r["rss_mib"], netty.get("rss_mib"))


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


def table(rows, meta):
    heads = [("case", "case", 0), ("server", "server", 0), ("msgs/s", "msgs_per_s", 0),
             ("xNetty", "x_netty_msgs", 2), ("xSeed", "x_seed_msgs", 2), ("p50us", "p50_us", 1),
             ("p50xSeed", "x_seed_p50", 2), ("p99us", "p99_us", 1), ("p99xNetty", "x_netty_p99", 2),
             ("p99.9us", "p999_us", 1), ("cpu us/msg", "cpu_us_per_msg", 2), ("cpu xC", "x_c_cpu", 2),
             ("cpu%", "server_cpu_pct", 1), ("RSS MiB", "rss_mib", 1), ("RSS xNetty", "x_netty_rss", 2),
             ("errors", "errors", 0)]
    lines = []
    for mode in dict.fromkeys(r["mode"] for r in rows):
        where = ("server on CPU 0 (1 thread), load generator on CPU 1" if mode == "pinned"
                 else "server (2 threads) and load generator share CPUs 0-1")
        lines.append(f"\n== {mode}: {where}; load generator: {meta.get('loadgen', '?')}, "
                     f"{meta.get('warmup_s', '?')} s warmup + {meta.get('duration_s', '?')} s per case")
        body = []
        last_case = None
        for r in (r for r in rows if r["mode"] == mode):
            cells = []
            for _, key, digits in heads:
                v = r.get(key)
                if key == "case" and r["case"] == last_case:
                    v = ""
                cells.append(fmt(v, digits) if key not in ("case", "server") else str(v))
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
    lines.append("\nx columns: this server's figure divided by the peer's in the same mode and case "
                 "(msgs/s: higher is better; p50, p99, cpu, RSS: lower is better). See docs/BENCHMARKS.md.")
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
    colors = {s: plt.get_cmap("tab10")(i) for i, s in enumerate(ORDER)}
    for m, mode in enumerate(modes):
        for col, (key, label) in enumerate([("msgs_per_s", "messages/s"), ("p99_us", "p99 latency (µs)")]):
            ax = axes[m][col]
            for s in servers:
                for size, style in ((32, "-"), (4096, "--")):
                    pts = sorted((r["connections"], r[key]) for r in rows
                                 if r["mode"] == mode and r["server"] == s and r["size"] == size
                                 and r["pipeline"] == 1 and r[key])
                    if pts:
                        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=4,
                                color=colors[s], label=f"{s} {size} B" if size != 4096 else f"{s} 4 KiB")
            ax.set_xscale("log")
            if key == "p99_us":
                ax.set_yscale("log")
            ax.set_xlabel("connections")
            ax.set_ylabel(label)
            ax.set_title(f"{label}, {mode}")
            ax.grid(True, which="both", alpha=0.3)
        if axes[m][1].get_legend_handles_labels()[0]:
            axes[m][1].legend(fontsize=7, ncol=2, loc="upper left")
    fig.suptitle("coecho and peers: echo throughput and p99 (solid: 32 B, dashed: 4 KiB)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    print(f"chart: {path}")


def main():
    out = sys.argv[1]
    chart_path = sys.argv[sys.argv.index("--chart") + 1] if "--chart" in sys.argv else None
    rows = [json.loads(line) for line in open(os.path.join(out, "results.jsonl")) if line.strip()]
    try:
        meta = json.load(open(os.path.join(out, "meta.json")))
    except OSError:
        meta = {}
    add_ratios(rows)
    rows = sort_rows(rows)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in r.items()})
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": rows}, f, indent=1)
    print(table(rows, meta))
    print(f"\nresults: {out}/results.csv, results.json")
    if chart_path and rows:
        chart(rows, chart_path)
        if os.path.abspath(os.path.dirname(chart_path)) != os.path.abspath(out):
            import shutil
            shutil.copy(chart_path, os.path.join(out, os.path.basename(chart_path)))


if __name__ == "__main__":
    main()
