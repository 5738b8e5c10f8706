"""The one error type of the benchmark runner."""

from __future__ import annotations


class BenchError(RuntimeError):
    """A sweep cannot run as asked (bad results file, bad arguments); the message says why."""
