"""Speed benchmarks of each layer, run by `jen-composer bench` from a source checkout (not installed).

Each module exposes ``run_benchmarks(quick, ...) -> list[BenchRow]``.
"""
