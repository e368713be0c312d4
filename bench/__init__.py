"""Benchmarks: synthetic input workbooks of several sizes (bench.generate) and a per-phase timer (bench.run)."""
