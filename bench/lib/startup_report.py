#!/usr/bin/env python3
"""The table of bench/startup.sh: per variant, each figure's median over the rounds with min-max.

    bench/lib/startup_report.py DIR        (DIR holds results.jsonl and meta.json)
"""
import json
import statistics
import sys

TABLES = [  # (title, [(field, heading, scale, decimals)])
    ("start-up and warm-up (wall clock: a busy machine shows here)", [
        ("first_echo_ms", "first echo ms", 1, 0),
        ("steady_ms", "steady ms", 1, 0),
        ("echoes_first_s", "echoes 1st s", 1, 0),
        ("final_rate", "final echoes/s", 1, 0),
    ]),
    ("start-up and warm-up (CPU time: less disturbed by other work)", [
        ("cpu_first_ms", "CPU to 1st echo ms", 1, 0),
        ("jit_first_ms", "of it JIT", 1, 0),
        ("steady_cpu_ms", "steady (loop CPU) ms", 1, 0),
        ("loop_us_first", "loop us/echo first", 1, 1),
        ("loop_us_final", "final", 1, 1),
        ("jit_steady_ms", "JIT CPU ms", 1, 0),
        ("load_us_per_msg", "c100 us/msg", 1, 2),
        ("load_msgs_per_s", "c100 msgs/s", 1, 0),
    ]),
    ("RSS, MiB", [
        ("rss_first_kib", "first echo", 1 / 1024, 1),
        ("rss_warm_kib", "warm idle", 1 / 1024, 1),
        ("rss_warm_anon_kib", "anon", 1 / 1024, 1),
        ("rss_warm_file_kib", "file", 1 / 1024, 1),
        ("rss_idle_kib", "10k idle conns", 1 / 1024, 1),
        ("rss_idle_anon_kib", "anon", 1 / 1024, 1),
    ]),
]


def cell(values, scale, decimals):
    if not values:
        return "-"
    v = sorted(x * scale for x in values)
    med = statistics.median(v)
    fmt = f"{{:,.{decimals}f}}"
    if len(v) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(v[0])}-{fmt.format(v[-1])})"


def main():
    out = sys.argv[1]
    meta = json.load(open(f"{out}/meta.json"))
    rows = [json.loads(line) for line in open(f"{out}/results.jsonl") if line.strip()]
    order = [v for v in meta["variants"] if any(r["variant"] == v for r in rows)]
    loads = [r["loadavg"] for r in rows]
    print(f"{len(rows)} runs, {meta['rounds']} rounds, {'pinned: server CPU 0, clients CPU 1' if meta['pinned'] else 'unpinned'}; "
          f"steady {meta['steady_s']} s, {meta['idle']} idle connections, c100 {meta['load_s']} s; "
          f"load average {min(loads):.1f}-{max(loads):.1f} (median {statistics.median(loads):.1f}); git {meta['git']}")
    for title, columns in TABLES:
        first = columns is TABLES[0][1]
        head = ["variant", "runs"] + [c[1] for c in columns] + (["noise", "notes"] if first else [])
        table = []
        for v in order:
            rs = [r for r in rows if r["variant"] == v]
            line = [v, str(len(rs))]
            for field, _, scale, dec in columns:
                vals = [r[field] for r in rs if isinstance(r.get(field), (int, float)) and r[field] >= 0]
                line.append(cell(vals, scale, dec))
            if first:
                never = sum(1 for r in rs if r.get("steady_ms", 0) < 0 and "steady_ms" in r)
                never_cpu = sum(1 for r in rs if r.get("steady_cpu_ms", 0) < 0 and "steady_cpu_ms" in r)
                notes = [r["note"] for r in rs if r.get("note")] + [r["error"] for r in rs if r.get("error")]
                if never:
                    notes.append(f"steady (wall) not reached in {never}")
                if never_cpu:
                    notes.append(f"steady (CPU) not reached in {never_cpu}")
                line.append(str(sum(r.get("log_lines", 0) for r in rs)))
                line.append("; ".join(sorted(set(notes))))
            table.append(line)
        widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
        print(f"\n== {title}")
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        for t in table:
            print("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
    print("\nmedians (min-max) over the rounds; noise: lines the server printed at --log-level warn (JVM warnings)")


if __name__ == "__main__":
    main()
