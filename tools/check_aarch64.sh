#!/bin/bash
# tools/check_aarch64.sh -- the element loops on aarch64 (armv8-a Advanced SIMD, the aarch64
# baseline), checked from an x86-64 machine by cross-compiling and running under qemu-aarch64.
#
#   sudo bash tools/check_aarch64.sh        # CI runs it as root: it installs what is missing
#
# Fails if
#   1. any element loop is not vectorized: each loop function of src/loops/ (through
#      tools/aarch64/loop_test.c, and src/loops/table.c where it exists) must run its arithmetic
#      on vector lanes: .2d/.4s FP instructions, at least 1, and for the loops with math (20 or
#      more scalar FP instructions) at least a quarter as many as scalar ones, which the scalar
#      tail loop accounts for. -fopt-info-vec's count of vectorized loops is shown, not relied on:
#      it also counts the small loops that combine an omp simd reduction's lanes, which are
#      vectorized where the element loop itself is not;
#   2. any loop function calls anything but memset/memcpy (libm's exp/log/log1p included), and
#      any libm symbol is undefined in table.c's object;
#   3. any loop misses the accuracy contract on the mpmath tables (tools/aarch64/tables.txt,
#      written by gen_tables.py): the real build flags, FMA contraction included, under qemu;
#   4. the same test built without FMA (-ffp-contract=off, and cbce_math.h's unfused formulas:
#      -DCBCE_FMA=0) differs in any bit from the x86-64 baseline build (SSE2, no FMA): the loops
#      are then the same IEEE operations on both architectures, so every output, flag and
#      rounding must agree. (As built, with FMA, the last bits may differ, within the contract:
#      the count is shown.)
# The last line is the summary: loops vectorized, loops tested, maximum ulp.
set -euo pipefail
cd "$(dirname "$0")/.."

CROSS=aarch64-linux-gnu-gcc
if ! command -v "$CROSS" >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "check_aarch64: $CROSS and qemu-aarch64 are missing; run as root to install them" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user >/dev/null
fi
OBJDUMP=aarch64-linux-gnu-objdump
NM=aarch64-linux-gnu-nm

# setup.py's compile flags (BASE_COMPILE_ARGS, read from it), with -fopenmp-simd for -fopenmp:
# the loops need only the simd pragmas, and a static qemu binary then needs no libgomp.
mapfile -t BASE < <(python3 -c '
import ast
for node in ast.parse(open("setup.py").read()).body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "BASE_COMPILE_ARGS"
                                            for t in node.targets):
        print("\n".join(ast.literal_eval(node.value)))')
if [ "${#BASE[@]}" = 0 ]; then
    echo "check_aarch64: BASE_COMPILE_ARGS not found in setup.py" >&2
    exit 2
fi
FLAGS=("${BASE[@]}" -fopenmp-simd -Isrc -Isrc/loops -Icbce/include)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

# Per loop function: vector FP instructions, scalar FP instructions, calls.
count() {
    "$OBJDUMP" -d --no-show-raw-insn "$1" | awk '
    /^[0-9a-f]+ <.*>:$/ { if (f != "") print f, v, s, c; f = $2; v = s = c = 0; next }
    {
        op = $2
        # calls, and tail calls to another symbol; memset/memcpy (zeroing a tile) are no math
        if ((op == "bl" || op == "blr" || (op == "b" && $4 ~ /^<[A-Za-z_0-9.]+>$/)) &&
            $4 !~ /^<(memset|memcpy|memmove)>$/) c++
        if (op ~ /^(f[a-z0-9]+|scvtf|ucvtf|frint[a-z]*)$/ && op != "fmov") {
            if ($0 ~ /v[0-9]+\.(2d|4s|2s)/) v++
            else if ($0 ~ /[ \t,][ds][0-9]+/) s++
        }
    }
    END { if (f != "") print f, v, s, c }' | tr -d '<>:' |
    grep -E '^cbce_((logit|prob|check|focal)_|sm_(row|cols)_)' || true
}

check_vec() {   # object, label
    local bad=0 n=0
    while read -r fn v s c; do
        n=$((n + 1))
        if [ "$v" -lt 1 ] || { [ "$s" -ge 20 ] && [ $((4 * v)) -lt "$s" ]; }; then
            echo "NOT VECTORIZED ($2): $fn: $v vector, $s scalar FP instructions" >&2
            bad=1
        fi
        if [ "$c" -gt 0 ]; then
            echo "CALLS ($2): $fn makes $c calls" >&2
            bad=1
        fi
    done < <(count "$1")
    [ "$n" -gt 0 ] || { echo "check_aarch64: no loop function found in $1" >&2; bad=1; }
    echo "$n"
    return $bad
}

start=$(date +%s)
# 1, 2: vectorization and calls, the loops as the test builds them
$CROSS "${FLAGS[@]}" -c tools/aarch64/loop_test.c -o "$TMP/loop_test.o" \
    -fopt-info-vec-optimized="$TMP/vec.txt"
nvec_msgs=$(grep -c "loop vectorized" "$TMP/vec.txt" || true)
if ! nloops=$(check_vec "$TMP/loop_test.o" loop_test.c); then fail=1; fi
nloops=${nloops##*$'\n'}
ntable=""
if [ -f src/loops/table.c ]; then
    # the per-target translation unit the package builds (its aarch64 baseline: no -march)
    $CROSS "${FLAGS[@]}" -DCBCE_TARGET=baseline -c src/loops/table.c -o "$TMP/table.o"
    if ! ntable=$(check_vec "$TMP/table.o" table.c); then fail=1; fi
    ntable=${ntable##*$'\n'}
    libm=$("$NM" -u "$TMP/table.o" | awk '{print $2}' | grep -E \
           '^(exp|exp2|expm1|log|log2|log10|log1p|pow|sqrt|cbrt|fma|erfc?|[a-z]*gamma)(f|l)?$' || true)
    if [ -n "$libm" ]; then
        echo "LIBM CALLS (table.c): $libm" >&2
        fail=1
    fi
fi

# 3: accuracy under qemu, as built (FMA contraction on)
$CROSS "${FLAGS[@]}" tools/aarch64/loop_test.c -o "$TMP/loop_test" -static -lm
if ! qemu-aarch64 "$TMP/loop_test" tools/aarch64/tables.txt > "$TMP/acc.txt"; then fail=1; fi
acc=$(tail -1 "$TMP/acc.txt")
echo "aarch64 (armv8-a, qemu): $acc"
qemu-aarch64 "$TMP/loop_test" tools/aarch64/tables.txt --dump > "$TMP/a64_fma.txt"

# 4: bit for bit against the x86-64 baseline, without contraction
bitwise="not compared (host is not x86-64)"
if [ "$(uname -m)" = x86_64 ]; then
    $CROSS "${FLAGS[@]}" -ffp-contract=off -DCBCE_FMA=0 tools/aarch64/loop_test.c \
        -o "$TMP/loop_test_nc" -static -lm
    qemu-aarch64 "$TMP/loop_test_nc" tools/aarch64/tables.txt --dump > "$TMP/a64_nc.txt"
    ${CC:-gcc} "${FLAGS[@]}" -march=x86-64 tools/aarch64/loop_test.c -o "$TMP/loop_test_x86" -lm
    if ! "$TMP/loop_test_x86" tools/aarch64/tables.txt > "$TMP/x86.txt"; then
        echo "x86-64 baseline: $(tail -1 "$TMP/x86.txt")" >&2
        fail=1
    fi
    "$TMP/loop_test_x86" tools/aarch64/tables.txt --dump > "$TMP/x86_dump.txt"
    total=$(wc -l < "$TMP/x86_dump.txt")
    ndiff=$(diff "$TMP/x86_dump.txt" "$TMP/a64_nc.txt" | grep -c '^<' || true)
    nfma=$(diff "$TMP/x86_dump.txt" "$TMP/a64_fma.txt" | grep -c '^<' || true)
    if [ "$ndiff" -ne 0 ]; then
        echo "BITWISE: $ndiff of $total outputs differ between aarch64 (-ffp-contract=off)" \
             "and the x86-64 baseline:" >&2
        diff "$TMP/x86_dump.txt" "$TMP/a64_nc.txt" | head -10 >&2
        fail=1
    fi
    bitwise="bitwise equal to the x86-64 baseline without FMA contraction: $((total - ndiff))"
    bitwise+="/$total outputs (as built, with contraction: $nfma differ in the last bits)"
fi
echo "$bitwise"

maxulp=$(echo "$acc" | sed -n 's/.*maximum \([0-9.]*\) ulp.*/\1/p')
tested=$(echo "$acc" | sed -n 's/.* \([0-9]*\) loops tested.*/\1/p')
status=$([ $fail = 0 ] && echo PASS || echo FAIL)
echo "check_aarch64 $status in $(( $(date +%s) - start )) s: loops vectorized ${nloops}" \
     "${ntable:+(table.c: $ntable) }(-fopt-info-vec: $nvec_msgs loops), loops tested $tested," \
     "maximum ${maxulp} ulp"
exit $fail
