#!/bin/bash
# tools/check_aarch64_python.sh -- the cbce Python package built for aarch64 and its core tests
# run under qemu-aarch64, from an x86-64 machine (Debian 12 bookworm).
#
#   sudo bash tools/check_aarch64_python.sh     # as root: it installs what is missing
#
# 1. An arm64 sysroot, with no arm64 package installed into the system: arm64 CPython 3.11 and
#    the libraries it and cbce load (libc6, libgomp1, libstdc++6, ...) from Debian's arm64
#    packages (`dpkg --add-architecture arm64`, `apt-get download`, `dpkg -x`); NumPy and the
#    test dependencies as aarch64 / pure-Python wheels from PyPI (`pip download --platform`),
#    installed into a target folder (`pip install --target`). Debian's python3-numpy (1.24) is
#    not used: the build needs NumPy >= 2 (pyproject.toml's build requirement).
# 2. cbce's extension cross-built with aarch64-linux-gnu-gcc by setup.py itself, run in cross
#    mode on the host (tools/aarch64/cross_setup.py: sysconfig answers for the arm64 CPython;
#    the Python and NumPy headers are the sysroot's): setup.py's flags and sources, Cython run on
#    the host, the aarch64 baseline target only, OpenMP on (libgomp; the sysroot's at run time).
#    The wheel (bdist_wheel, linux_aarch64) goes into the target folder.
# 3. Under qemu-aarch64 with the sysroot's python3.11 (through a wrapper that is also
#    sys.executable, so the tests' subprocesses run under qemu too), from outside the source
#    tree: `import cbce; cbce.show_config()` (must report the aarch64 baseline target, built
#    alone, with OpenMP), the demo `python -m cbce`, and the core tests ($TESTS below).
#    Under qemu the tests see an aarch64 CPU: the x86-64 targets' parametrizations skip (not
#    built), as on an arm64 machine. CBCE_A64_TESTS="tests/a.py tests/b.py" runs other files.
# Downloads are cached in ${CBCE_CI_TMP:-/tmp}/cbce-aarch64-python (35 MB of .deb and wheels, the
# build venv; ~240 MB with the sysroot and target folder, remade each run); a rerun downloads
# nothing. The junit report of the last run stays there (last-junit.xml).
# Time on 2 x86-64 cores: 5.2 min warm (the tests 4.4 min, the build 13 s, the sysroot 9 s);
# with a CI run sharing the cores, 6.3 min warm and 6.8 min with an empty cache (tests ~5.5 min).
# The last line is the summary; the exit status is nonzero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
start=$(date +%s)

# The core tests, at most ~5 minutes under qemu on 2 cores: numerics against mpmath and the
# references, the API and bad input, determinism, threads, fork and the OpenMP team, the build
# configuration, the command line. (Left out: the optional peers' files, which skip without
# them, and the slower property, C-API, packaging and embedding files.)
TESTS=(${CBCE_A64_TESTS:-tests/test_math.py tests/test_extreme_values.py tests/test_derivatives.py
       tests/test_cross_entropy.py tests/test_reductions.py
       tests/test_bad_input.py tests/test_hostile_inputs.py tests/test_options.py tests/test_out.py
       tests/test_determinism.py tests/test_concurrency.py tests/test_nan_and_team_size.py
       tests/test_fork.py tests/test_config.py tests/test_main.py})
# Tests deselected on aarch64 under qemu, each with its reason.
DESELECT=(
    # qemu-user runs a thread of its own (its RCU thread), which /proc/self/task lists: a plain
    # python3.11 under qemu has 2 tasks, and so has a forked child before any cbce call, so the
    # test's "the forked child has exactly 1 task" cannot hold under qemu. Its other two checks
    # (the child's and grandchild's results) pass, and the child's task count stays 2 after
    # work(2): it starts no OpenMP worker, which is what the test means to check.
    tests/test_fork.py::test_raw_fork_child_runs_serially
    # the 10^6-sample demo, which this script has just run (python -m cbce, above)
    tests/test_main.py::test_main_job_runs_on_synthetic_data
)
# For time (~50 s under qemu): the serial half of the strided-layout bitwise test; its
# n_threads=4 half runs the same 16 layouts, dtypes and kinds.
for d in float64 float32; do for k in logits probabilities; do
    for l in step-2 reversed 2d-columns-step-3 2d-fortran; do
        DESELECT+=("tests/test_determinism.py::test_strided_view_bitwise_equals_contiguous_copy[$d-$k-$l-1]")
done; done; done

# Pinned, so that a rerun resolves nothing: the aarch64 NumPy (headers for the build, module for
# the tests) and the pure-Python test dependencies with theirs (hypothesis has aarch64 wheels).
NUMPY=numpy==2.4.6
PYDEPS=(pytest==9.2.0 pluggy==1.7.0 iniconfig==2.3.1 packaging==26.4 pygments==2.21.0
        hypothesis==6.170.29 sortedcontainers==2.4.0 mpmath==1.4.1 threadpoolctl==3.8.0)
# The arm64 Debian packages of the sysroot: python3.11 and what it and cbce load.
DEBS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11-dev
      libc6 libgcc-s1 libstdc++6 libgomp1 zlib1g libexpat1 libssl3 libffi8 libbz2-1.0 liblzma5
      libcrypt1 libuuid1 libsqlite3-0 libncursesw6 libtinfo6 libreadline8)
PYVER=3.11

CROSS=aarch64-linux-gnu-gcc
CACHE=${CBCE_CI_TMP:-/tmp}/cbce-aarch64-python
SYSROOT=$CACHE/sysroot
SITE=$CACHE/site
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
log() { echo "check_aarch64_python: $*"; }
die() { echo "check_aarch64_python: $*" >&2; exit 2; }

# --- tools: the cross compiler, qemu, a host CPython of the sysroot's version -----------------
if ! command -v "$CROSS" >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    [ "$(id -u)" = 0 ] || die "$CROSS and qemu-aarch64 are missing; run as root to install them"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user >/dev/null
fi
HOSTPY=${PYTHON:-}
for p in "$HOSTPY" python$PYVER python3; do
    [ -n "$p" ] && command -v "$p" >/dev/null || continue
    if [ "$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = $PYVER ]; then
        HOSTPY=$p; break
    fi
    HOSTPY=
done
[ -n "$HOSTPY" ] || die "no host Python $PYVER (the build runs setup.py on the host for the" \
                        "sysroot's CPython $PYVER); set PYTHON"

# pip's output without its noise (warnings about unreachable extra indexes)
quiet_pip() { "$@" 2>&1 | { grep -v -e '^WARNING: Location' -e '^\[notice\]' || true; }; \
              return "${PIPESTATUS[0]}"; }

# setup.py's build requirements on the host (pyproject.toml), in a venv that sees the host's
# packages; its pip also fetches and installs the aarch64 wheels (--target: nothing of the host's)
BVENV=$CACHE/build-venv
stamp="$("$HOSTPY" -c 'import sys; print(sys.version)') setuptools>=77 Cython>=3.1 numpy>=2"
if [ "$(cat "$BVENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$BVENV"
    if ! "$HOSTPY" -m venv --system-site-packages "$BVENV" >/dev/null 2>&1; then
        # Debian's python3 has venv (ensurepip) in a package of its own
        [ "$(id -u)" = 0 ] || die "$HOSTPY cannot create a venv (python3-venv?); run as root"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python$PYVER-venv >/dev/null
        rm -rf "$BVENV"
        "$HOSTPY" -m venv --system-site-packages "$BVENV"
    fi
    quiet_pip "$BVENV/bin/python" -m pip install -q "setuptools>=77" "Cython>=3.1" "numpy>=2"
    echo "$stamp" > "$BVENV/.stamp"
fi
BPY=$BVENV/bin/python

# --- 1. the sysroot ------------------------------------------------------------------------
t0=$(date +%s)
DEBDIR=$CACHE/debs
stamp="${DEBS[*]}"
if [ "$(cat "$DEBDIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
    [ "$(id -u)" = 0 ] || die "the arm64 packages are not cached; run as root to download them"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64     # only apt's package lists; nothing arm64 is installed
        apt-get update -qq
    fi
    rm -rf "$DEBDIR" && mkdir -p "$DEBDIR"
    pkgs=("${DEBS[@]/%/:arm64}")
    # as the _apt user where it can write there, else unsandboxed (root's /tmp folders)
    chown _apt "$DEBDIR" 2>/dev/null || true
    if ! (cd "$DEBDIR" && apt-get download -qq "${pkgs[@]}" 2>/dev/null); then
        apt-get update -qq
        (cd "$DEBDIR" && apt-get download -qq "${pkgs[@]}")
    fi
    echo "$stamp" > "$DEBDIR/.stamp"
fi
rm -rf "$SYSROOT" && mkdir -p "$SYSROOT"
for deb in "$DEBDIR"/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
TPY=$SYSROOT/usr/bin/python$PYVER
[ -x "$TPY" ] || die "no $TPY in the sysroot"
# The interpreter as the tests see it: a host script that runs the arm64 python3.11 under qemu
# and passes itself as argv[0], so sys.executable is this script and a test's subprocess
# ([sys.executable, ...]) runs under qemu too (binfmt_misc is not relied on). It lies next to
# the real binary, so CPython finds its prefix (the sysroot's /usr) as before.
QPY=$SYSROOT/usr/bin/python-qemu
cat > "$QPY" <<EOF
#!/bin/sh
exec qemu-aarch64 -L "$SYSROOT" -0 "\$0" "$TPY" "\$@"
EOF
chmod +x "$QPY"

# the aarch64 wheels: NumPy and the test dependencies
WHEELS=$CACHE/wheels
PIPTARGET=(--only-binary=:all: --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64
           --platform linux_aarch64 --python-version $PYVER --implementation cp
           --abi cp${PYVER/./})
stamp="$NUMPY ${PYDEPS[*]}"
if [ "$(cat "$WHEELS/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$WHEELS"
    quiet_pip "$BPY" -m pip download -q --no-deps -d "$WHEELS" "${PIPTARGET[@]}" \
        "$NUMPY" "${PYDEPS[@]}"
    echo "$stamp" > "$WHEELS/.stamp"
fi
rm -rf "$SITE"
quiet_pip "$BPY" -m pip install -q --no-deps --no-index --find-links "$WHEELS" \
    --target "$SITE" "${PIPTARGET[@]}" "$NUMPY" "${PYDEPS[@]}"
NPINC=$SITE/numpy/_core/include
[ -f "$NPINC/numpy/arrayobject.h" ] || die "no NumPy headers in $NPINC"
t_sysroot=$(( $(date +%s) - t0 ))

# --- 2. the cross build -------------------------------------------------------------------
t0=$(date +%s)
# a copy of the source tree (tracked and new files): setup.py writes cbce/_build_info.py, and
# the host's own build (build/, src/_kernels.c) stays apart
mkdir -p "$WORK/src" "$WORK/sysconfig"
git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$WORK/src"
cp "$SYSROOT/usr/lib/python$PYVER/_sysconfigdata__linux_aarch64-linux-gnu.py" "$WORK/sysconfig/"
if ! (cd "$WORK/src" &&
      env _PYTHON_HOST_PLATFORM=linux-aarch64 \
          _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__linux_aarch64-linux-gnu \
          PYTHONPATH="$WORK/sysconfig" CBCE_BUILD_JOBS=2 \
          "$BPY" "$REPO/tools/aarch64/cross_setup.py" "$SYSROOT" "$NPINC" \
          bdist_wheel -d "$WORK/dist") > "$WORK/build.log" 2>&1; then
    tail -30 "$WORK/build.log" >&2
    die "the aarch64 build failed"
fi
grep -E "^$CROSS " "$WORK/build.log" | sed 's/^/  /'
WHEEL=$(ls "$WORK"/dist/cbce-*-linux_aarch64.whl)
quiet_pip "$BPY" -m pip install -q --no-deps --no-index --target "$SITE" "${PIPTARGET[@]}" \
    "$WHEEL"
SO=$(ls "$SITE"/cbce/_kernels.cpython-*-aarch64-linux-gnu.so)
aarch64-linux-gnu-readelf -h "$SO" | grep -q 'Machine:.*AArch64' || die "$SO is not aarch64"
aarch64-linux-gnu-readelf -d "$SO" | grep -q 'NEEDED.*libgomp' || die "$SO does not link libgomp"
t_build=$(( $(date +%s) - t0 ))
log "built $(basename "$WHEEL") in ${t_build} s (sysroot and wheels: ${t_sysroot} s)"

# --- 3. under qemu, from outside the source tree ---------------------------------------------
RUN=$WORK/run
mkdir -p "$RUN"
cd "$RUN"
export PYTHONPATH=$SITE PYTHONDONTWRITEBYTECODE=1
fail=0
# show_config: the aarch64 baseline target, built alone, with OpenMP, setup.py's flags; and the
# OpenMP runtime loaded is the sysroot's libgomp
if ! "$QPY" - "$REPO/setup.py" <<'EOF'
import ast, platform, sys
import cbce
cfg = cbce.show_config()
base = next(ast.literal_eval(n.value) for n in ast.parse(open(sys.argv[1]).read()).body
            if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "BASE_COMPILE_ARGS")
maps = open("/proc/self/maps").read()
gomp = sorted({l.split()[-1] for l in maps.splitlines() if "libgomp" in l})
print(f"machine {platform.machine()}, libgomp {gomp}")
bad = [what for what, ok in [
    ("machine aarch64", platform.machine() == "aarch64"),
    ("kernel_variant baseline", cfg["kernel_variant"] == "baseline"),
    ("kernel_variants_built ['baseline']", cfg["kernel_variants_built"] == ["baseline"]),
    ("variant_flags {'baseline': []}", cfg["variant_flags"] == {"baseline": []}),
    ("openmp", cfg["openmp"] is True),
    ("compile_args: setup.py's BASE_COMPILE_ARGS, -fopenmp",
     cfg["compile_args"][:len(base)] == base and "-fopenmp" in cfg["compile_args"]),
    ("compiler aarch64-linux-gnu-gcc", cfg["compiler"] == "aarch64-linux-gnu-gcc"),
    ("the sysroot's libgomp", len(gomp) == 1 and "/sysroot/" in gomp[0]),
] if not ok]
if bad:
    sys.exit("show_config: expected " + "; ".join(bad))
EOF
then
    echo "FAIL: show_config" >&2
    fail=1
fi

t0=$(date +%s)
if "$QPY" -m cbce > "$WORK/demo.txt" 2>&1; then
    log "python -m cbce: ok in $(( $(date +%s) - t0 )) s"
    sed 's/^/  /' "$WORK/demo.txt"
else
    echo "FAIL: python -m cbce" >&2
    cat "$WORK/demo.txt" >&2
    fail=1
fi

t0=$(date +%s)
args=()
for t in "${TESTS[@]}"; do args+=("$WORK/src/$t"); done
for d in "${DESELECT[@]}"; do args+=(--deselect "$d"); done   # ids relative to --rootdir
set +e
timeout 900 "$QPY" -m pytest -p no:cacheprovider --rootdir="$WORK/src" -q -rfEs --durations=10 \
    --junitxml="$WORK/junit.xml" "${args[@]}"
rc=$?
set -e
t_tests=$(( $(date +%s) - t0 ))
cp "$WORK/junit.xml" "$CACHE/last-junit.xml" 2>/dev/null || true   # kept for a look afterwards
[ "$rc" = 0 ] || { echo "FAIL: pytest exit status $rc" >&2; fail=1; }
counts=$("$HOSTPY" - "$WORK/junit.xml" <<'EOF' || echo "no junit report"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(f"{n['tests'] - n['failures'] - n['errors'] - n['skipped']} passed, {n['failures']} failed, "
      f"{n['errors']} errors, {n['skipped']} skipped")
EOF
)

status=$([ $fail = 0 ] && echo PASS || echo FAIL)
echo "check_aarch64_python $status in $(( $(date +%s) - start )) s: aarch64 (qemu) tests" \
     "${counts} in ${t_tests} s (${#TESTS[@]} files, ${#DESELECT[@]} deselected); build" \
     "${t_build} s, sysroot ${t_sysroot} s"
exit $fail
