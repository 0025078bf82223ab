"""One module per benchmark scenario (docs/benchmarks.md); each `run(scale, ctx)` returns Rows."""
