#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Parses a /metrics body with Debian's python3-prometheus-client text parser
# and prints one normalised line per sample, `name{k="v",...} value` with the
# labels sorted (values re-escaped as in the text format), plus
# `TYPE family type` per family. Exit 1 (with the parser's message) when the
# text is not valid exposition format.
import sys

from prometheus_client.parser import text_string_to_metric_families


def escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def main(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends on bad input
        print(f"not Prometheus text format: {e!r}", file=sys.stderr)
        return 1
    for family in families:
        print(f"TYPE {family.name} {family.type}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(sample.labels.items()))
            print(f"{sample.name}{{{labels}}} {sample.value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
