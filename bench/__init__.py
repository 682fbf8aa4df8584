"""Benchmarks. Run all with `make bench` (python -m bench) or one with `python -m bench.NAME`.

Each benchmark measures ratios within one run (these machines are noisy) and
rewrites its own section of docs/BENCHMARKS.md.
"""
