"""Scenario placeholder: expiry."""

from bench.common import Row


def run(scale, ctx):
    return [Row(scenario="?", name="expiry", unit="", median=None, status="not yet built")]
