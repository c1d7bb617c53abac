#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Prints the Markdown table of a run-benchmarks.sh result directory (scep-bench --json files).
import json
import os
import re
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/scep-bench-results"
files = sorted((f for f in os.listdir(out) if f.endswith(".json")), key=lambda f: os.path.getmtime(os.path.join(out, f)))
print("| run | mode | C | sent | ok | failures | req/s | p50 ms | p95 ms | p99 ms | RSA signs/s | limit/s | % of limit "
      "| dup serials | server CPU ms/req | client CPU ms/req | busy before |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for name in files:
    with open(os.path.join(out, name)) as fh:
        text = fh.read().strip()
    if not text:
        print(f"| {name[:-5]} | (no result) |")
        continue
    r = json.loads(text)
    b = r.get("baseline") or {}
    fails = ", ".join(f"{k}: {v}" for k, v in r["failures_by_reason"].items()) or "0"
    pct = r.get("percent_of_limit")
    lat = r["latency_ms"]
    cpu_file = os.path.join(out, name[:-5] + ".cpu")
    server_cpu = float(open(cpu_file).read()) if os.path.exists(cpu_file) else None
    busy_file = os.path.join(out, name[:-5] + ".busy")
    busy = open(busy_file).read().strip() + "%" if os.path.exists(busy_file) else ""
    per_req = lambda v: "" if v is None or not r["requests"] else f"{1000 * v / r['requests']:.2f}"
    print(f"| {name[:-5]} | {r['mode']} | {r['concurrency']} | {r['requests']} | {r['successes']} | {fails} "
          f"| {r['rate_per_second']:.1f} | {lat['p50']:.1f} | {lat['p95']:.1f} | {lat['p99']:.1f} "
          f"| {b.get('sign_ops_per_second', 0):.0f} | {b.get('enrolment_limit_per_second', 0):.0f} "
          f"| {'' if pct is None else f'{pct:.1f}'} | {r.get('duplicate_serials', '')} "
          f"| {per_req(server_cpu)} | {per_req(r.get('client_cpu_seconds'))} | {busy} |")
for extra in ("ra-memory.txt", "micromdm-caps.txt", "machine.txt"):
    path = os.path.join(out, extra)
    if os.path.exists(path):
        print(f"\n{extra}:\n" + open(path).read().strip())
path = os.path.join(out, "ra-startup.txt")
if os.path.exists(path):
    ms = [int(m) for m in re.findall(r"startup_ms (\d+)", open(path).read())]
    if ms:
        print(f"\nstart-up ms: {ms} median {statistics.median(ms)} max {max(ms)}")
