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

    def wake(self, token: str, output: dict) -> bool:
        """Complete a waiting ``.waitForTaskToken`` task. False if the token is spent (answered, timed out,
        or its execution ended): the workflow has moved on and will read the new state itself."""
        sfn = client("stepfunctions")
        try:
            sfn.send_task_success(taskToken=token, output=json.dumps(output))
            return True
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
            return False
