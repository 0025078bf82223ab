"""Scenario placeholder: invoices."""

from bench.common import Row


def run(scale, ctx):
    return [Row(scenario="?", name="invoices", unit="", median=None, status="not yet built")]
