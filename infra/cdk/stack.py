"""One stage of the platform as one CloudFormation stack, assembled in dependency order:
data, layers, functions, workflows, the HTTP API, schedules, monitoring."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from infra.cdk.api import HttpApi
from infra.cdk.citizen_pool import SIGN_IN_FUNCTION, CitizenPool
from infra.cdk.data import DataStores
from infra.cdk.functions import Layers, PlainFunctions
from infra.cdk.monitoring import Monitoring, Watched
from infra.cdk.schedules import Schedules
from infra.cdk.stages import StageConfig, stack_name
from infra.cdk.workflows import Workflows
from shared import resources


class TongtingStack(Stack):
    def __init__(self, scope: Construct, *, stage: StageConfig, **kwargs) -> None:
        super().__init__(
            scope,
            stack_name(stage.name),
            description=f"Tongting city smart-parking platform, stage {stage.name} (infra/cdk)",
            termination_protection=stage.deletion_protection,
            **kwargs,
        )
        Tags.of(self).add("app", resources.APP)
        Tags.of(self).add("stage", stage.name)

        self.data = DataStores(self, "Data", stage=stage)
        self.layers = Layers(self, "Layers")
        self.functions = PlainFunctions(self, "Functions", stage=stage, data=self.data, layers=self.layers)
        self.workflows = Workflows(self, "Workflows", stage=stage, functions=self.functions.deployed)
        self.citizens = CitizenPool(self, "Citizens", stage=stage, sign_in=self.functions.deployed[SIGN_IN_FUNCTION].function)
        self.api = HttpApi(self, "Api", stage=stage, data=self.data, layers=self.layers,
                           environment=self.citizens.environment())
        self.schedules = Schedules(self, "Schedules", stage=stage, functions=self.functions.deployed)
        queues = {f"{d.name}-dlq": d.dlq for d in self.functions.deployed.values() if d.dlq}
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            watched=Watched(self.functions.deployed, self.api, self.workflows.machines, queues),
        )

        for logical, table in self.data.tables.items():
            CfnOutput(self, f"Table-{logical}", value=table.table_name)
        for logical, bucket in self.data.buckets.items():
            CfnOutput(self, f"Bucket-{logical}", value=bucket.bucket_name)
        for logical, machine in self.workflows.machines.items():
            CfnOutput(self, f"StateMachine-{logical}", value=machine.state_machine_arn)
        CfnOutput(self, "AlarmTopic", value=self.monitoring.topic.topic_arn)
