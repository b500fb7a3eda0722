"""``python -m infra.cdk.deploy --stage dev``: synthesise the stage, deploy it, then create missing secrets.

It deploys ``cdk.out/<stage>`` with the AWS CDK CLI (``npx aws-cdk@2``), using the operator's AWS
credentials and region (``AWS_PROFILE`` / ``AWS_REGION``). The account and region must have been
bootstrapped once (``npx aws-cdk@2 bootstrap``). ``--dry-run`` prints the commands and runs nothing.
Arguments after ``--`` go to ``cdk deploy`` (e.g. ``-- --require-approval never`` in a pipeline).
Provider secrets (Stripe) are never generated: the last step reports those missing (``infra.cdk.secrets``).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

from infra.cdk.bundle import ROOT
from infra.cdk.stages import STAGES, stack_name
from infra.cdk.synth import assembly_dir

CDK_CLI = ["npx", "--yes", "aws-cdk@2"]


def deploy_command(stage: str, extra: list[str]) -> list[str]:
    outputs = assembly_dir(stage) / "outputs.json"
    return [
        *CDK_CLI, "deploy", stack_name(stage),
        "--app", str(assembly_dir(stage).relative_to(ROOT)),
        "--outputs-file", str(outputs.relative_to(ROOT)),
        # By default a human confirms any new IAM grant or opened port; a pipeline passes its own.
        *([] if "--require-approval" in extra else ["--require-approval", "broadening"]),
        *extra,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)

    command = deploy_command(args.stage, extra)
    if args.dry_run:
        print(f"{sys.executable} -m infra.cdk.synth --stage {args.stage}")
        print(shlex.join(command))
        print(f"{sys.executable} -m infra.cdk.secrets --stage {args.stage}")
        return 0

    from infra.cdk import secrets, synth

    synth.main(["--stage", args.stage])
    result = subprocess.run(command, check=False, cwd=ROOT)
    if result.returncode:
        return result.returncode
    print(secrets.ensure_admin_key(args.stage))
    for line in secrets.provider_report(args.stage):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
