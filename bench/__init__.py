"""Benchmarks: `python -m bench.run` (or `make bench`) writes bench/results.json and bench/RESULTS.md."""
