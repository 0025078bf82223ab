"""Scenario placeholder: backoffice."""

from bench.common import Row


def run(scale, ctx):
    return [Row(scenario="?", name="backoffice", unit="", median=None, status="not yet built")]
