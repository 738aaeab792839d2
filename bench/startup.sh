#!/usr/bin/env bash
# Start-up and memory baseline: `coecho serve` under sets of JVM options (variants), a fresh server per
# measurement, the variants alternating over rounds. Per run (bench/peers/c/startup_probe.c, then the C
# load generator):
#   first echo   ms from the command's start to the first verified echo (connects every 1 ms until
#                the port listens)
#   steady       ms from the first echo until one connection's echoes per 100 ms window reach 90 % of
#                their final rate (the median of the last 2 s of a --steady s ping-pong): the first window
#                from which the median of 5 does. The same on CPU time, which other work on the machine
#                disturbs less: the event loop's CPU per echo within 10 % of its final value
#   CPU          the server's CPU time (all threads; of it, the JIT compilers') up to the first echo
#   RSS          at the first echo; after the ping-pong and 1 s idle; with --idle connections open
#                (each echoed one byte) after 1 s idle; VmRSS, and its anonymous and file-backed parts
#   echo path    server CPU µs per echo at 100 connections (C load generator, 3 s warmup + --load s):
#                a variant must not raise it
# The report gives each figure's median over the rounds with min-max (bench/lib/startup_report.py).
#
#   bench/startup.sh                                  the default variants, 5 rounds (about 25 minutes)
#   bench/startup.sh --rounds 7 --load 10 --variants launcher,notrim,dist+notrim,dist,dist-aot
#
# Options:
#   --rounds N       rounds (default 5); in round r the variants start at the r-th, wrapping around
#   --variants LIST  comma list of:
#                      launcher    ./coecho serve: the launcher's JVM options (packaging/jvm.options)
#                      notrim      + -XX:TrimNativeHeapInterval=0 (the launcher's defaults before issue 15)
#                      aot         + -XX:AOTCache of a cache trained for target/coecho.jar (packaging/aot.sh)
#                      c1          + -XX:TieredStopAtLevel=1 (C1 only: no C2 compiler thread)
#                      codecache   + -XX:ReservedCodeCacheSize=16m (one code heap, not three segments)
#                      trim        + -XX:TrimNativeHeapInterval=1000 (give glibc's free memory back every
#                                  1 s; in packaging/jvm.options since this was measured)
#                      arena       + MALLOC_ARENA_MAX=2 in the environment (glibc's per-thread arenas)
#                      coh         + -XX:+UseCompactObjectHeaders (JEP 519: 8-byte object headers)
#                      norelocate  + -XX:ArchiveRelocationMode=0 (diagnostic: map the CDS archive where it
#                                  was built to be, instead of at a random address, patching every pointer)
#                      noperf      + -XX:-UsePerfData (no hsperfdata file)
#                      young16     + -XX:NewSize=16m (a floor under G1's young generation)
#                      smgc1       + -XX:CompileCommand=CompileThresholdScaling,...StackMapGenerator::processBlock,100.0
#                                  (the JDK's class-file stack map generator, hot while the start-up spins
#                                  method handle classes, left to C1: no 16 MB C2 compilation)
#                      dist        the distribution's bin/coecho (jlink'ed runtime), its AOT cache removed
#                      dist-aot    the distribution's bin/coecho as built, with its AOT cache
#                    (default: all but trim and noperf); joined with '+', variants add up (dist+notrim)
#   --steady S       seconds of one-connection ping-pong (default 10)
#   --idle N         idle connections for the RSS figure (default 10000; 0: skip)
#   --load S         measured seconds at 100 connections (default 5; 0: skip)
#   --no-pin         server and clients on both CPUs (default: server on CPU 0, clients on CPU 1)
#   --out DIR        results folder (default bench/out/startup-<timestamp>)
# Environment: COECHO_JAVA_OPTS is added to every variant. Loopback only; every step is bounded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

all_variants="launcher,notrim,aot,c1,codecache,trim,arena,coh,norelocate,noperf,young16,smgc1,dist,dist-aot"
variants="launcher,notrim,aot,c1,codecache,arena,coh,norelocate,dist,dist-aot" rounds=5 steady=10 idle=10000 load=5 pin=1 outdir=""
die() { echo "bench/startup: $*" >&2; exit 2; }
say() { echo "bench/startup: $*" >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    --steady) steady="${2%s}"; shift 2 ;;
    --idle) idle="$2"; shift 2 ;;
    --load) load="${2%s}"; shift 2 ;;
    --no-pin) pin=0; shift ;;
    --out) outdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 && "$rounds" -le 50 ]] || die "--rounds must be 1..50"
[[ "$steady" =~ ^[0-9]+$ && "$steady" -ge 3 && "$steady" -le 60 ]] || die "--steady must be 3..60 s"
[[ "$idle" =~ ^[0-9]+$ && "$idle" -le 50000 ]] || die "--idle must be 0..50000"
[[ "$load" =~ ^[0-9]+$ && "$load" -le 60 ]] || die "--load must be 0..60 s"
IFS=, read -r -a variant_list <<<"$variants"
for v in "${variant_list[@]}"; do
  IFS=+ read -r -a parts <<<"$v"
  for p in "${parts[@]}"; do [[ ",$all_variants," == *",$p,"* ]] || die "unknown variant '$p' (one of $all_variants)"; done
done
[ "$pin" = 0 ] || [ "$(nproc)" -ge 2 ] || die "pinning needs 2 CPUs (or --no-pin)"
[ "$pin" = 0 ] || command -v taskset >/dev/null || die "taskset is needed (util-linux)"
JAVA_HOME="$(bench_find_jdk)" || die "no JDK 25 found (set JAVA_HOME)"
export JAVA_HOME
python="$(bench_python)" || die "python3 is needed for the report"

# 10,000 connections: as many descriptors in the server and in the probe, plus slack.
want=$((idle + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want" ] \
    || die "open-files limit $(ulimit -n) is below $want: raise the hard limit or pass a smaller --idle"
fi

# --- build ----------------------------------------------------------------------------------------
"$here/build.sh" coecho c
probe="$here/build/startup_probe"
if [ ! -x "$probe" ] || [ "$here/peers/c/startup_probe.c" -nt "$probe" ]; then
  gcc -O2 -Wall -o "$probe" "$here/peers/c/startup_probe.c"
fi
out="${outdir:-$here/out/startup-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"
results="$out/results.jsonl"
: >"$results"
jar="$root/target/coecho.jar"
if [[ ",$variants," =~ [,+]aot[,+] ]]; then
  say "training an AOT cache for $jar"
  "$root/packaging/aot.sh" "$JAVA_HOME/bin/java" "$root/packaging/jvm.options" "$jar" "$out/coecho.aot"
fi
dist="" dist_noaot=""
if [[ ",$variants," =~ [,+]dist ]]; then
  say "building the distribution"
  tarball="$("$root/packaging/dist.sh" "$jar" "$out")"
  mkdir -p "$out/dist" "$out/dist-noaot"
  tar -xzf "$tarball" -C "$out/dist"
  tar -xzf "$tarball" -C "$out/dist-noaot"
  dist="$(echo "$out"/dist/coecho-*)" dist_noaot="$(echo "$out"/dist-noaot/coecho-*)"
  rm -f "$dist_noaot/lib/coecho.aot"
fi

"$python" - "$out/meta.json" <<EOF
import json, os, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({"git": os.popen("git -C '$root' describe --always --dirty 2>/dev/null").read().strip(),
           "cpu": cpu, "cpus": os.cpu_count(), "kernel": os.uname().release, "java": "$JAVA_HOME",
           "rounds": $rounds, "variants": "$variants".split(","), "steady_s": $steady, "idle": $idle,
           "load_s": $load, "pinned": $pin == 1, "extra_java_opts": os.environ.get("COECHO_JAVA_OPTS", "")},
          open(sys.argv[1], "w"), indent=1)
EOF

# --- one run --------------------------------------------------------------------------------------
server_pid=""
stop_server() {
  local pid="$server_pid"
  server_pid=""
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# variant NAME: sets cmd (the launcher), opts (JVM options added through COECHO_JAVA_OPTS) and env.
# NAME may join several with '+' (dist-aot+trim): their options add up.
variant() {
  cmd=("$root/coecho") opts="" env=()
  local part
  IFS=+ read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    case "$part" in
      launcher) ;;
      notrim) opts+=" -XX:TrimNativeHeapInterval=0" ;;
      aot) opts+=" -XX:AOTCache=$out/coecho.aot" ;;
      c1) opts+=" -XX:TieredStopAtLevel=1" ;;
      codecache) opts+=" -XX:ReservedCodeCacheSize=16m" ;;
      trim) opts+=" -XX:TrimNativeHeapInterval=1000" ;;
      arena) env+=(MALLOC_ARENA_MAX=2) ;;
      coh) opts+=" -XX:+UseCompactObjectHeaders" ;;
      norelocate) opts+=" -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0" ;;
      noperf) opts+=" -XX:-UsePerfData" ;;
      young16) opts+=" -XX:NewSize=16m" ;;
      smgc1) opts+=" -XX:CompileCommand=quiet -XX:CompileCommand=CompileThresholdScaling,jdk.internal.classfile.impl.StackMapGenerator::processBlock,100.0" ;;
      dist) cmd=("$dist_noaot/bin/coecho") ;;
      dist-aot) cmd=("$dist/bin/coecho") ;;
    esac
  done
}

free_port() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 12000 ))
    [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
  done
  return 1
}

run() {
  local round="$1" name="$2" tag="r$1-$2" port rc=0 note=""
  say "round $round/$rounds  $name"
  variant "$name"
  port="$(free_port)" || die "no free port"
  local server_cpus="" client=()
  if [ "$pin" = 1 ]; then server_cpus="taskset -c 0"; client=(taskset -c 1); fi
  local t0="$EPOCHREALTIME"
  # shellcheck disable=SC2086
  env "${env[@]}" COECHO_JAVA_OPTS="$opts ${COECHO_JAVA_OPTS:-}" $server_cpus "${cmd[@]}" serve --port "$port" \
    --bind 127.0.0.1 --log-level warn >"$out/logs/$tag.server.log" 2>&1 &
  server_pid=$!
  timeout -k 5 $((60 + steady + 150)) "${client[@]}" "$probe" --port "$port" --pid "$server_pid" --t0 "$t0" \
    --steady "$steady" --idle "$idle" --timeout 60 >"$out/logs/$tag.probe.json" 2>"$out/logs/$tag.probe.log" || rc=$?
  [ "$rc" = 0 ] || note="probe exited $rc"
  if [ "$load" -gt 0 ] && kill -0 "$server_pid" 2>/dev/null; then
    timeout -k 5 $((load + 60)) "${client[@]}" "$here/build/loadgen" 127.0.0.1 "$port" --connections 100 --size 32 \
      --warmup 3s --duration "${load}s" --cpu-pid "$server_pid" --json \
      >"$out/logs/$tag.load.json" 2>"$out/logs/$tag.load.log" || note="${note:+$note; }load generator exited $?"
  fi
  kill -0 "$server_pid" 2>/dev/null || note="${note:+$note; }server died"
  stop_server
  "$python" - "$results" "$out/logs" "$tag" "$round" "$name" "$note" <<'EOF'
import json, os, sys
results, logs, tag, rnd, name, note = sys.argv[1:]
row = {"round": int(rnd), "variant": name, "loadavg": float(open("/proc/loadavg").read().split()[0])}
def load(path):
    try:
        return json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
probe = load(f"{logs}/{tag}.probe.json")
if probe:
    row.update(probe)
lg = load(f"{logs}/{tag}.load.json")
if lg and lg.get("messages"):
    row["load_msgs_per_s"] = lg["msgs_per_s"]
    row["load_us_per_msg"] = lg["server_cpu_ticks"] / lg["clk_tck"] / lg["messages"] * 1e6
    row["load_errors"] = sum(lg.get("errors", {}).values())
# At --log-level warn the server prints nothing: every line is noise (a JVM warning, say).
with open(f"{logs}/{tag}.server.log", errors="replace") as f:
    row["log_lines"] = sum(1 for line in f if line.strip())
if note:
    row["note"] = note
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
EOF
}

n=${#variant_list[@]}
say "$((rounds * n)) runs ($rounds rounds x $n variants, ${steady} s + ${load} s each); machine: $(uptime)"
for round in $(seq "$rounds"); do
  for i in $(seq 0 $((n - 1))); do
    run "$round" "${variant_list[$(( (i + round - 1) % n ))]}"
  done
done
say "done; machine: $(uptime)"
"$python" "$here/lib/startup_report.py" "$out" | tee "$out/table.txt"
