"""Appends one benchmark case to results.jsonl: the load generator's JSON merged with what
bench/run.sh measured on the server (CPU ticks over the measured window, peak RSS).

Usage: record.py RESULTS.jsonl key=value...   (keys: round mode server case connections size pipeline
client loadgen_json loadgen_rc cpu_file clk_tck rss_kib loadavg note)

One line per round of a case; bench/lib/report.py takes the medians across rounds. The CPU file has
two lines "epoch server_ticks [client_ticks]": the first and last sample of the measured window.
"""
import json
import sys

MIN_TICKS = 5


def load_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    # The JSON document, one line or pretty-printed, may follow other output: try the whole text,
    # then from each line that opens an object, last first.
    lines = text.splitlines()
    starts = [0] + [i for i, line in enumerate(lines) if line.lstrip().startswith("{")][::-1]
    for i in starts:
        try:
            return json.loads("\n".join(lines[i:]))
        except ValueError:
            pass
    return None


def cpu_seconds(path, clk_tck):
    """(window seconds, server CPU seconds, client CPU seconds or None) from the sampler's lines
    'epoch server_ticks [client_ticks]', or None."""
    try:
        rows = [line.split() for line in open(path) if len(line.split()) in (2, 3)]
    except OSError:
        return None
    if len(rows) < 2:
        return None
    first, last = rows[0], rows[-1]
    window = float(last[0]) - float(first[0])
    server = (float(last[1]) - float(first[1])) / clk_tck
    client = None
    if len(first) == 3 and len(last) == 3:
        client = (float(last[2]) - float(first[2])) / clk_tck
    return window, server, client


def main():
    out = sys.argv[1]
    kv = dict(a.split("=", 1) for a in sys.argv[2:])
    row = {
        "round": int(kv.get("round") or 1), "client": kv.get("client") or "java",
        "mode": kv["mode"], "server": kv["server"], "case": kv["case"],
        "connections": int(kv["connections"]), "size": int(kv["size"]), "pipeline": int(kv["pipeline"]),
        "msgs_per_s": None, "mib_per_s": None, "p50_us": None, "p90_us": None, "p99_us": None,
        "p999_us": None, "max_us": None, "cpu_us_per_msg": None, "user_us_per_msg": None, "server_cpu_pct": None,
        "rss_mib": None, "client_cpu_pct": None, "client_cpu_us_per_msg": None, "errors": None, "error_detail": None, "ok": False,
        "loadgen_rc": int(kv["loadgen_rc"]) if kv.get("loadgen_rc") else None,
        "note": kv.get("note") or "",
    }
    lg = load_json(kv["loadgen_json"]) if kv.get("loadgen_json") else None
    if lg is None and kv.get("loadgen_json"):
        row["note"] = (row["note"] + "; " if row["note"] else "") + "no JSON from the load generator"
    if lg:
        lat = lg.get("latency_us") or {}
        errs = lg.get("errors") or {}
        row.update(msgs_per_s=lg.get("msgs_per_s"), mib_per_s=lg.get("mib_per_s"),
                   p50_us=lat.get("p50"), p90_us=lat.get("p90"), p99_us=lat.get("p99"),
                   p999_us=lat.get("p999"), max_us=lat.get("max"),
                   errors=sum(v for v in errs.values() if isinstance(v, (int, float))),
                   error_detail={k: v for k, v in errs.items() if v}, ok=bool(lg.get("ok")))
    cpu = cpu_seconds(kv["cpu_file"], float(kv.get("clk_tck") or 100)) if kv.get("cpu_file") else None
    if kv.get("loadavg"):
        row["loadavg"] = float(kv["loadavg"])
    clk = float(kv.get("clk_tck") or 100)
    if lg and lg.get("server_cpu_ticks") is not None and lg.get("duration_s"):
        # The C load generator read the server's CPU at the edges of its own measured window: exact
        # alignment, preferred to the harness's sampler (which can drift when the machine is loaded).
        clk = float(lg.get("clk_tck") or clk)
        window = float(lg["duration_s"])
        client = (lg["client_cpu_pct"] / 100.0 * window) if lg.get("client_cpu_pct") is not None else None
        cpu = (window, lg["server_cpu_ticks"] / clk, client)
    if cpu and cpu[0] > 0 and cpu[1] * clk < MIN_TICKS:
        # A handful of clock ticks (10 ms each) is no measurement: 0 or 1 tick would read as a
        # server that costs nothing per message.
        row["note"] = (row["note"] + "; " if row["note"] else "") + \
            f"server CPU under {MIN_TICKS} clock ticks in the window: too coarse, not reported (starved?)"
        cpu = None
    if cpu and cpu[0] > 0:
        window, used, client_used = cpu
        row["server_cpu_pct"] = round(100.0 * used / window, 1)
        if client_used is not None:
            row["client_cpu_pct"] = round(100.0 * client_used / window, 1)
            if row["msgs_per_s"]:
                row["client_cpu_us_per_msg"] = round(client_used * 1e6 / (window * row["msgs_per_s"]), 3)
        if row["msgs_per_s"]:
            row["cpu_us_per_msg"] = round(used * 1e6 / (window * row["msgs_per_s"]), 3)
            if lg and lg.get("server_user_ticks") is not None:
                # User space alone: the server's own code (with its JIT and GC threads). The kernel's
                # part (the syscalls, and the loopback delivery to the client charged to them) is
                # most of the total and most of its noise on this machine.
                row["user_us_per_msg"] = round(lg["server_user_ticks"] / clk * 1e6 / (window * row["msgs_per_s"]), 3)
    if kv.get("rss_kib"):
        row["rss_mib"] = round(int(kv["rss_kib"]) / 1024.0, 1)
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
