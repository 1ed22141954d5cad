"""Put a libgomp built for glibc <= 2.17 into FOLDER as libgomp.so.1 (+ libgomp.so), for
tools/ci/wheel.sh to link against instead of the system's (which needs glibc 2.34).

    python tools/ci/old_libgomp.py FOLDER

Source: the libgomp that scikit-learn's manylinux wheels bundle (GCC's runtime, GPLv3 with the
GCC Runtime Library Exception; built in a manylinux image, it needs glibc 2.17 only, whatever the
tag of the wheel it comes in), from pip's cache or the index; its glibc needs are checked here. auditwheel renamed its soname;
it gets libgomp.so.1 back so that the link records the usual name. Exit status 1 when no such
wheel or library is found, or when the library needs a glibc newer than 2.17.
"""
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

folder = Path(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    dl = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                         "--only-binary=:all:", "--dest", tmp, "scikit-learn"])
    wheels = list(Path(tmp).glob("scikit_learn-*manylinux*.whl"))
    if dl.returncode or not wheels:
        sys.exit("no manylinux scikit-learn wheel")
    with zipfile.ZipFile(wheels[0]) as whl:
        libs = [n for n in whl.namelist() if re.search(r"\.libs/libgomp[^/]*\.so", n)]
        if not libs:
            sys.exit(f"{wheels[0].name} bundles no libgomp")
        with whl.open(libs[0]) as src, open(folder / "libgomp.so.1", "wb") as dst:
            shutil.copyfileobj(src, dst)
lib = folder / "libgomp.so.1"
subprocess.run(["patchelf", "--set-soname", "libgomp.so.1", str(lib)], check=True)
(folder / "libgomp.so").symlink_to("libgomp.so.1")
symbols = subprocess.run(["objdump", "-T", str(lib)], capture_output=True, text=True,
                         check=True).stdout
newest = max((tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+\.\d+)", symbols)),
              default=(0, 0))
print(f"old libgomp: {libs[0]} from {wheels[0].name}, needs glibc {'.'.join(map(str, newest))}")
sys.exit(0 if newest <= (2, 17) else 1)
