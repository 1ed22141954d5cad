#!/bin/sh
# Build and run benchmarks/element_loops.c with setup.py's flags for one kernel variant.
set -e
cd "$(dirname "$0")/.."
case "${1:-avx512}" in
    avx512) march="-march=x86-64-v4" ;;
    avx2) march="-march=x86-64-v3" ;;
    baseline) march="" ;;
    *) echo "usage: $0 [avx512|avx2|baseline]" >&2; exit 2 ;;
esac
out="${TMPDIR:-/tmp}/cbce_element_loops"
${CC:-gcc} -O3 $march -fno-math-errno -fno-trapping-math --param inline-unit-growth=1000 \
    --param large-function-growth=1000 -fopenmp -Isrc -Icbce/include \
    benchmarks/element_loops.c -o "$out" -lm
echo "# ${1:-avx512}, $(${CC:-gcc} -dumpfullversion 2>/dev/null || ${CC:-gcc} -dumpversion), $(date -u +%Y-%m-%d)"
"$out"
