"""Synthesises everything the infrastructure tests inspect, in one process (jsii starts once).

``python -m tests.infra.synth_all OUTDIR`` writes:

- ``OUTDIR/assembly``: the dev, staging and prod stacks, the templates ``make synth`` writes for each (the
  assets but the dependencies layer: ``infra.cdk.app.build(..., templates_only=True)``);
- ``OUTDIR/variant``: the dev stack after changing ``shared.resources`` (the app prefix, a schedule's
  expression, one more schedule, one more table) and with the optional custom domain and alarm e-mail,
  plus ``plan.json``: what ``infra.local.provision.plan`` makes of the same changed definitions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from infra.cdk.app import synth
from infra.cdk.derive import HTTP_API
from infra.cdk.stages import STAGES
from shared import resources

OPERATOR_ENV = ("TONGTING_ALARM_EMAIL", "TONGTING_DOMAIN_NAME", "TONGTING_CERTIFICATE_ARN", "TONGTING_HOSTED_ZONE_ID")
VARIANT_ENV = {
    "TONGTING_ALARM_EMAIL": "parking-ops@example.cn",
    "TONGTING_DOMAIN_NAME": "api.parking.example.cn",
    "TONGTING_CERTIFICATE_ARN": "arn:aws:acm:cn-north-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    "TONGTING_HOSTED_ZONE_ID": "Z0000000000000000000",
}
VARIANT_APP = "tongting-variant"
VARIANT_TABLE = resources.Table("audit-marks", "pk", "sk", ttl_attribute="expires_at", purpose="variant")
VARIANT_SCHEDULE_EXPRESSION = "cron(0/7 * * * ? *)"


def _unscheduled_function() -> str:
    scheduled = {s.function for s in resources.SCHEDULES}
    plain = [f.logical for f in resources.FUNCTIONS if f.logical != HTTP_API]
    return next((f for f in plain if f not in scheduled), plain[0])


VARIANT_EXTRA_SCHEDULE = resources.Schedule("nightly-review", "cron(0 18 * * ? *)", _unscheduled_function())


@contextlib.contextmanager
def variant() -> Iterator[None]:
    saved = (resources.APP, resources.TABLES, resources.SCHEDULES, {k: os.environ.get(k) for k in VARIANT_ENV})
    first, *rest = resources.SCHEDULES
    resources.APP = VARIANT_APP
    resources.TABLES = (*resources.TABLES, VARIANT_TABLE)
    resources.SCHEDULES = (
        dataclasses.replace(first, expression=VARIANT_SCHEDULE_EXPRESSION),
        *rest,
        VARIANT_EXTRA_SCHEDULE,
    )
    os.environ.update(VARIANT_ENV)
    try:
        yield
    finally:
        resources.APP, resources.TABLES, resources.SCHEDULES, env = saved
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def local_plan(stage: str) -> dict | None:
    try:
        from infra.local.provision import plan
    except ImportError:
        return None
    return plan(stage)


def main(outdir: Path) -> None:
    for key in OPERATOR_ENV:
        os.environ.pop(key, None)
    synth(STAGES, outdir / "assembly", templates_only=True)
    with variant():
        synth(["dev"], outdir / "variant", templates_only=True)
        (outdir / "variant" / "plan.json").write_text(json.dumps(local_plan("dev"), indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
