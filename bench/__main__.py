"""Run every benchmark in bench/ (each rewrites its section of docs/BENCHMARKS.md)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    only = set(sys.argv[1:])
    failed = []
    for name in names:
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            rc = importlib.import_module(f"bench.{name}").main([])
        except SystemExit as exc:
            rc = exc.code
        if rc:
            failed.append(name)
        print(f"== {name} done in {time.perf_counter() - t0:.0f} s (rc={rc})", flush=True)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
