"""Logging, metrics and tracing (Powertools), shared by every function.

Plates are personal data: anything logged goes through ``masked`` first.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.data_masking import DataMasking

SERVICE = "tongting"
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Tongting")

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE)
tracer = Tracer(service=SERVICE)

PERSONAL_FIELDS = ("$..plate", "$..exit_plate")
_masker = DataMasking(raise_on_missing_field=False)
# An event without a plate (occupancy, heartbeat) is normal: no warning for the missing field.
warnings.filterwarnings("ignore", message=".*not found", module=r"aws_lambda_powertools\.utilities\.data_masking.*")


def masked(data: dict) -> dict:
    """A copy of ``data`` with every plate replaced by a fixed mask, at any depth."""
    return _masker.erase(data, fields=list(PERSONAL_FIELDS))


def count(name: str, value: int = 1) -> None:
    """Add to a count metric. Does nothing while metrics are disabled: Powertools would otherwise keep
    the values (flush does not clear them) and print them anyway once a metric holds 100."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit="Count", value=value)


def measure(name: str, value: float, unit: str = "Milliseconds") -> None:
    """Record one value of a measured metric (a latency); as ``count``, nothing while metrics are off."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=unit, value=value)


def flush() -> None:
    """Publish this request's metrics (EMF on stdout), outside a ``log_metrics`` handler."""
    if not is_metrics_disabled() and metrics.metric_set:
        metrics.flush_metrics()
