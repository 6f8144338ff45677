"""Benchmarks: synthetic national data, the reference implementation, the harness."""
