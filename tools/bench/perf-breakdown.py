#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Summarises `perf script -F comm,tid,ip,sym` of a scep-ra profile: CPU share by kind of work
# and by the innermost scep-ra function on the stack (needs --call-graph dwarf).
import collections
import re
import sys


def read_samples(path):
    samples, frames = [], []
    for line in open(path):
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                samples.append(frames)
            frames = []
        elif line[0] in "\t ":
            parts = line.split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
        else:
            frames = []
    if frames:
        samples.append(frames)
    return samples


def kind(frames):
    stack = " ".join(frames)
    if "BN_mod_exp_mont_consttime" in stack:
        return "RSA private-key exponentiation (BN_mod_exp_mont_consttime_x2)"
    if "OSSL_DECODER" in stack:
        return "OpenSSL 3.0 decoder framework (keys decoded while parsing certificates, CSRs, CMS)"
    if "OSSL_ENCODER" in stack:
        return "OpenSSL 3.0 encoder framework (key to DER)"
    if "sqlite3" in stack:
        return "SQLite"
    if "verify" in stack.lower():
        return "signature verification (RSA public key)"
    if any(f.startswith(("entry_SYSCALL", "do_syscall")) for f in frames):
        return "kernel: syscalls (socket I/O, file writes, futex, nanosleep)"
    return "other: ASN.1 encode/decode, malloc, hashing, AES, httplib"


def project_frame(frames):
    for f in frames:
        if f.startswith("scepra::"):
            f = re.sub(r"\(.*", "", f)
            return re.sub(r"::\{lambda.*", "::<lambda>", f)
    return "(no scep-ra frame: httplib keep-alive loop, thread start, kernel)"


samples = read_samples(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin")
n = len(samples) or 1
print(f"{len(samples)} samples\n\nby kind of work:")
for name, count in collections.Counter(kind(s) for s in samples).most_common():
    print(f"{100 * count / n:5.1f}%  {name}")
print("\nby innermost scep-ra function:")
for name, count in collections.Counter(project_frame(s) for s in samples).most_common(12):
    print(f"{100 * count / n:5.1f}%  {name}")
