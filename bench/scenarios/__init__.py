"""One module per scenario of issue 5; each `run(scale, ctx)` returns Rows."""
