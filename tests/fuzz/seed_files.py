# SPDX-License-Identifier: Apache-2.0
"""Writes one fuzz target's seeds into tests/fuzz/corpus/TARGET/ (for the seed scripts beside it)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, files):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return len(files)
