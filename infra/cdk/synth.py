"""``python -m infra.cdk.synth --stage dev``: synthesise one stage into ``cdk.out/<stage>/``.

No AWS account or credentials are used; the cloud assembly is what ``infra.cdk.deploy`` deploys.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from infra.cdk.bundle import ROOT
from infra.cdk.stages import STAGES, stack_name


def assembly_dir(stage: str) -> Path:
    return ROOT / "cdk.out" / stage


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--outdir", type=Path, help="default: cdk.out/<stage>")
    args = parser.parse_args(argv)
    outdir = args.outdir or assembly_dir(args.stage)
    shutil.rmtree(outdir, ignore_errors=True)  # a stale asset must never be deployed
    started = time.monotonic()
    from infra.cdk.app import synth  # imports aws_cdk (slow): only once the arguments are valid

    synth([args.stage], outdir)
    template = outdir / f"{stack_name(args.stage)}.template.json"
    print(
        f"synthesised {stack_name(args.stage)} in {time.monotonic() - started:.0f} s: {template.relative_to(ROOT) if template.is_relative_to(ROOT) else template}"
    )
    return outdir


if __name__ == "__main__":
    main()
