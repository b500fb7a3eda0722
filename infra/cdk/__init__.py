"""The whole platform as one AWS CDK application, one stack per stage (dev, staging, prod).

Every table, bucket, function, state machine and schedule comes from ``shared.resources``; this package
only decides how each becomes AWS resources (IAM, logging, alarms). Entry points: ``python -m
infra.cdk.synth`` and ``python -m infra.cdk.deploy`` (see docs/ops.md).
"""

import os

# jsii prints a banner on every start under node 20 (still what these machines have).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
