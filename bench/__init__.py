"""Benchmarks of the order-to-cash path (targets in docs/benchmarks.md); run with `python -m bench`.

See docs/benchmarks.md for what each scenario measures and the latest results.
"""
