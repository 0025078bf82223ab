"""Benchmarks of the order-to-cash path (issue 5); run with `python -m bench`.

See docs/benchmarks.md for what each scenario measures and the latest results.
"""
