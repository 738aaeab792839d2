"""Per-test failure counts over the runs of bench/repeat-tests.sh: reads OUT/run-*/TEST-*.xml.

Usage: test_failures.py OUT RUNS. Prints one line per test that failed in any run, with the number of
runs it failed and its first failure message, then a total. A run whose reports are missing (the build
broke, the JVM crashed) is named too: a missing report is a failure, not a pass.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

out, runs = sys.argv[1], int(sys.argv[2])
failures = {}   # test -> number of runs it failed in
first = {}      # test -> first failure message
seen = set()    # every test that ran at least once
empty = []      # runs without any report
for i in range(1, runs + 1):
    files = glob.glob(os.path.join(out, f"run-{i}", "TEST-*.xml"))
    if not files:
        empty.append(i)
    failed_here = set()
    for f in files:
        for case in ET.parse(f).getroot().iter("testcase"):
            name = case.get("classname", "").rsplit(".", 1)[-1] + "#" + case.get("name", "")
            seen.add(name)
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            if bad is not None:
                failed_here.add(name)
                msg = (bad.get("message") or bad.get("type") or "").strip().splitlines()
                first.setdefault(name, (i, msg[0][:160] if msg else ""))
    for name in failed_here:
        failures[name] = failures.get(name, 0) + 1

print(f"{len(seen)} tests, {runs} runs")
for name in sorted(failures, key=lambda n: (-failures[n], n)):
    run, msg = first[name]
    print(f"  {failures[name]}/{runs} failed  {name}   (run {run}: {msg})")
for i in empty:
    print(f"  run {i}: no test report (the build or the test JVM failed; see run-{i}.log)")
if not failures and not empty:
    print("  no failures")
