"""EventBridge rules from ``resources.SCHEDULES``, the definitions the local scheduler also fires.

The event a function receives has the shape the local scheduler sends (``infra/local/scheduler.py``),
plus the scheduled ``time``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.cdk import derive
from infra.cdk.functions import Deployed
from infra.cdk.stages import StageConfig
from shared import resources


def schedule_event(schedule: resources.Schedule) -> dict:
    return {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "resources": [schedule.logical],
        "time": events.EventField.time,
        "detail": schedule.payload,
    }


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, functions: dict[str, Deployed]
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        for spec in resources.SCHEDULES:
            target = functions[spec.function]
            rule = events.Rule(
                self,
                derive.pascal(spec.logical),
                rule_name=resources.resource_name(spec.logical, stage.name),
                description=spec.purpose[:512] or None,
                schedule=events.Schedule.expression(spec.expression),
            )
            rule.add_target(
                targets.LambdaFunction(
                    target.function,
                    event=events.RuleTargetInput.from_object(schedule_event(spec)),
                    # A run that cannot be delivered is kept with the function's failed async runs.
                    dead_letter_queue=target.dlq,
                    retry_attempts=2,
                    max_event_age=Duration.hours(1),
                )
            )
            self.rules[spec.logical] = rule
