"""Build the CDK app: one stack per requested stage, environment-agnostic (account and region come
from the operator's credentials at deploy time), synthesised without any AWS call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import aws_cdk as cdk

from infra.cdk import bundle
from infra.cdk.stack import TongtingStack
from infra.cdk.stages import stage_config


def build(stages: Iterable[str], outdir: Path) -> cdk.App:
    bundle.importable()
    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    for name in stages:
        TongtingStack(app, stage=stage_config(name))
    return app


def synth(stages: Iterable[str], outdir: Path) -> Path:
    """Synthesises the stages into a cloud assembly at ``outdir`` and returns it."""
    build(stages, outdir).synth()
    return outdir
