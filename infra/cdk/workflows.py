"""The Step Functions state machines of ``resources.STATE_MACHINES``.

Each definition is the ASL file in ``state_machines/`` as it is; its ``${...FunctionArn}`` placeholders
become ``DefinitionSubstitutions`` (the same substitution the local stack makes), so the file is never
copied or edited. Logs omit execution data: inputs carry plates.
"""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.cdk import bundle, derive
from infra.cdk.functions import Deployed, log_group
from infra.cdk.stages import StageConfig
from shared import resources

STATE_MACHINES_DIR = bundle.ROOT / "state_machines"


class Workflows(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, functions: dict[str, Deployed]
    ) -> None:
        super().__init__(scope, construct_id)
        self.machines: dict[str, sfn.StateMachine] = {}
        for spec in resources.STATE_MACHINES:
            name = resources.resource_name(spec.logical, stage.name)
            cid = derive.pascal(spec.logical)
            # The /aws/vendedlogs/ prefix keeps CloudWatch's resource policy small as machines are added.
            logs_group = log_group(self, f"{cid}Logs", f"/aws/vendedlogs/states/{name}", stage)
            machine = sfn.StateMachine(
                self,
                cid,
                state_machine_name=name,
                state_machine_type=sfn.StateMachineType[spec.kind],
                definition_body=sfn.DefinitionBody.from_string((STATE_MACHINES_DIR / spec.definition_file).read_text()),
                definition_substitutions={
                    resources.task_placeholder(task): functions[task].function.function_arn for task in spec.tasks
                },
                logs=sfn.LogOptions(destination=logs_group, level=sfn.LogLevel.ALL, include_execution_data=False),
                tracing_enabled=True,
            )
            for task in spec.tasks:
                functions[task].function.grant_invoke(machine)
            self.machines[spec.logical] = machine
