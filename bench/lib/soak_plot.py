#!/usr/bin/env python3
"""Plots a soak's samples (bench/soak.sh): one panel per figure, the warm-up shaded, the line fitted
after it drawn over the samples, its slope per hour and bound in the panel's title.

    soak_plot.py samples.csv summary.json out.png
"""
import csv
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def fit(ts, ys):
    n = len(ts)
    mt, my = sum(ts) / n, sum(ys) / n
    sxx = sum((t - mt) ** 2 for t in ts)
    b = sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / sxx
    return my - b * mt, b


def main(samples_csv, summary_json, out_png):
    with open(samples_csv) as f:
        rows = list(csv.DictReader(f))
    with open(summary_json) as f:
        summary = json.load(f)
    t = [float(r["seconds"]) / 60 for r in rows]
    warm = summary["warm_up_s"] / 60
    slopes = summary["slopes_per_hour"]
    panels = [
        ("rss_mib", "RSS (MiB)", [int(r["rss_kib"]) / 1024 for r in rows], "MiB/h"),
        ("heap_after_gc_mib", "live heap after full GC (MiB)", [int(r["heap_after_gc_kib"]) / 1024 for r in rows], "MiB/h"),
        ("fds", "open descriptors", [int(r["fds"]) for r in rows], "/h"),
        ("threads", "threads", [int(r["threads"]) for r in rows], "/h"),
        (None, "echo errors (cumulative)", [int(r["errors"]) for r in rows], None),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.3 * len(panels)), sharex=True)
    for ax, (key, label, ys, unit) in zip(axes, panels):
        ax.plot(t, ys, ".-", markersize=3, linewidth=0.8)
        ax.axvspan(0, warm, color="0.9", label="warm-up")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
        if key:
            after = [(x, y) for x, y in zip(t, ys) if x >= warm]
            if len(after) >= 3:
                a, b = fit([x for x, _ in after], [y for _, y in after])
                xs = [after[0][0], after[-1][0]]
                ax.plot(xs, [a + b * x for x in xs], "r-", linewidth=1.2)
            s = slopes[key]
            ax.set_title(f"{label}: {s['slope']:+.2f} ± {s['ci95']:.2f} {unit} after warm-up "
                         f"(bound {s['bound']:.0f} {unit}) {'ok' if s['ok'] else 'ABOVE'}", fontsize=8)
        else:
            ax.set_title(f"{label}: {summary['errors']}", fontsize=8)
    axes[-1].set_xlabel("minutes")
    d = summary["duration_s"]
    fig.suptitle(f"coecho soak, {summary['target']}, {f'{d // 60} min' if d >= 60 else f'{d} s'}: "
                 f"{'passed' if summary['ok'] else 'FAILED'}; {summary['cycles']} connect/echo/close cycles, "
                 f"{summary['echoed_bytes'] / 2**30:.1f} GiB echoed, {summary['idle_reaped']} idle connections reaped",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:4])
