"""Build the CDK app: one stack per requested stage, environment-agnostic (account and region come
from the operator's credentials at deploy time), synthesised without any AWS call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import aws_cdk as cdk

from infra.cdk import bundle
from infra.cdk.stack import TongtingStack
from infra.cdk.stages import stage_config

# CDK's context key naming the stacks whose assets are built (default: all); none for templates only.
BUNDLING_STACKS = "aws:cdk:bundling-stacks"


def build(stages: Iterable[str], outdir: Path, *, templates_only: bool = False) -> cdk.App:
    """``templates_only``: the templates a full synthesis writes, for reading, never for deploying: the
    dependencies layer is not built (its recipe stands in: the layer's S3 key differs), and CDK's own
    template validation (warnings only; the tests run cfn-lint on the same templates), its tree.json and
    its per-construct stack traces are left out (the tests' stacks: ~13 s of CPU where a full synthesis
    takes ~30 s, and building the layer ~22 s more)."""
    bundle.importable()
    lean = {"builtin_cloud_formation_validation": False, "tree_metadata": False, "stack_traces": False}
    app = cdk.App(
        outdir=str(outdir),
        analytics_reporting=False,
        **({"context": {BUNDLING_STACKS: []}, **lean} if templates_only else {}),
    )
    for name in stages:
        TongtingStack(app, stage=stage_config(name))
    return app


def synth(stages: Iterable[str], outdir: Path, *, templates_only: bool = False) -> Path:
    """Synthesises the stages into a cloud assembly at ``outdir`` and returns it."""
    build(stages, outdir, templates_only=templates_only).synth()
    return outdir
