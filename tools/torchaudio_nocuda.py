"""Build a CPU-only torchaudio wheel from the published one (run by the Makefile).

Why: the torchaudio wheels on the package index link their native libraries
(``torchaudio/lib/*.so``) against CUDA libraries, so with the CPU build of
torch ``import torchaudio`` -- and with it ``import pyannote.audio`` -- fails
with ``libc10_cuda.so: cannot open shared object file``. pyannote.audio only
uses torchaudio's pure-Python parts (``compliance.kaldi`` fbank, ``transforms``
MFCC, resampling), and torchaudio imports as pure Python when its native
libraries are absent (``torchaudio._extension`` checks for the files).

What: download the official wheel for this platform, drop ``torchaudio/lib/*.so``,
and repack it with the local version label ``+nocuda`` (so ``pip list`` shows
what it is and ``torchaudio==2.11.0`` pins still match), rewriting RECORD with
fresh hashes. Nothing installed is edited afterwards; pip installs a
consistent wheel, and ``pip check`` stays clean.

Usage: python tools/torchaudio_nocuda.py --version 2.11.0 --out .wheels
Prints the path of the wheel it wrote (or found already built).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

LOCAL_LABEL = "nocuda"


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def repack(src: Path, out_dir: Path) -> Path:
    m = re.match(r"torchaudio-([^-]+)-(.+)\.whl$", src.name)
    if not m:
        raise SystemExit(f"{src}: not a torchaudio wheel file name")
    version, tags = m.groups()
    base_version = version.split("+")[0]
    new_version = f"{base_version}+{LOCAL_LABEL}"
    old_info = f"torchaudio-{version}.dist-info/"
    new_info = f"torchaudio-{new_version}.dist-info/"
    target = out_dir / f"torchaudio-{new_version}-{tags}.whl"

    files: dict[str, bytes] = {}
    with zipfile.ZipFile(src) as zin:
        for info in zin.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if name.startswith("torchaudio/lib/") and name.endswith(".so"):
                continue  # the CUDA-linked native extensions
            data = zin.read(name)
            if name.startswith(old_info):
                name = new_info + name[len(old_info):]
                if name.endswith("METADATA"):
                    data = re.sub(rb"(?m)^Version: .*$", f"Version: {new_version}".encode(), data, count=1)
            files[name] = data

    record_name = new_info + "RECORD"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for name, data in files.items():
        if name != record_name:
            writer.writerow([name, _record_hash(data), len(data)])
    writer.writerow([record_name, "", ""])
    files[record_name] = buf.getvalue().encode()

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in files.items():
            zout.writestr(name, data)
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="2.11.0")
    parser.add_argument("--out", type=Path, default=Path(".wheels"))
    args = parser.parse_args(argv)

    existing = sorted(args.out.glob(f"torchaudio-{args.version}+{LOCAL_LABEL}-*.whl"))
    if existing:
        print(existing[-1])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", tmp, f"torchaudio=={args.version}"],
            check=True,
        )
        (src,) = Path(tmp).glob("torchaudio-*.whl")
        print(repack(src, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
