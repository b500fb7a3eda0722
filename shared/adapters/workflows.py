"""Starting Step Functions executions, idempotently: the execution name is the business key."""

from __future__ import annotations

import json
import os

from shared import resources
from shared.adapters.aws import client


class Workflows:
    def start(self, logical: str, name: str, payload: dict) -> None:
        arn = os.environ[resources.state_machine_env(logical)]
        sfn = client("stepfunctions")
        try:
            sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
        except sfn.exceptions.ExecutionAlreadyExists:
            pass  # a retried request: the workflow is already running for this key
