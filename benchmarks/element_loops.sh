#!/bin/sh
# Build and run benchmarks/element_loops.c with setup.py's flags for one loop target, or for
# every target this CPU runs ("all").
set -e
cd "$(dirname "$0")/.."
target="${1:-avx2}"
if [ "$target" = all ]; then
    for t in baseline sse42 avx2 avx512; do
        case $t in
            sse42) grep -q sse4_2 /proc/cpuinfo || continue ;;
            avx2) grep -q avx2 /proc/cpuinfo || continue ;;
            avx512) grep -q avx512bw /proc/cpuinfo || continue ;;
        esac
        sh "$0" $t
    done
    exit 0
fi
case "$target" in
    avx512) march="-march=x86-64-v4" ;;
    avx2) march="-march=x86-64-v3" ;;
    sse42) march="-march=x86-64-v2" ;;
    baseline) march="-march=x86-64" ;;
    *) echo "usage: $0 [baseline|sse42|avx2|avx512|all]" >&2; exit 2 ;;
esac
out="${TMPDIR:-/tmp}/cbce_element_loops_$target"
${CC:-gcc} -O3 $march -fno-math-errno -fno-trapping-math --param inline-unit-growth=1000 \
    --param large-function-growth=1000 -fopenmp -Isrc -Icbce/include \
    benchmarks/element_loops.c -o "$out" -lm
echo "# $target, $(${CC:-gcc} -dumpfullversion 2>/dev/null || ${CC:-gcc} -dumpversion), $(date -u +%Y-%m-%d)"
"$out"
