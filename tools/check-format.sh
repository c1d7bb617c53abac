#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fails, naming each file, when a tracked C++ file differs from .clang-format
# (clang-format 14, Debian 12). `tools/check-format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$formatter" ]; then
    echo "check-format: clang-format not found (apt-get install clang-format)" >&2
    exit 2
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
if [ "${1:-}" = "--fix" ]; then
    "$formatter" -i "${files[@]}"
    exit 0
fi
# One clang-format per file, as many at once as there are cores; each differing file is printed.
mapfile -t differing < <(printf '%s\0' "${files[@]}" |
    xargs -0 -n 1 -P "$(nproc)" sh -c '"$0" --dry-run --Werror "$1" > /dev/null 2>&1 || echo "$1"' "$formatter")
if [ ${#differing[@]} -ne 0 ]; then
    echo "check-format: ${#differing[@]} file(s) differ from .clang-format (run tools/check-format.sh --fix):" >&2
    printf '  %s\n' "${differing[@]}" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format"
