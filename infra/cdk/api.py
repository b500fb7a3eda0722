"""The HTTP API: the Chalice app in ``functions/api`` through Chalice's CDK construct.

Chalice generates the REST API, the handler and the token authorizer (SAM resources); this module gives
them least-privilege roles of ours, the shared layers, log groups with retention, stage throttling,
access logs, a web ACL and, optionally, a custom domain.
"""

from __future__ import annotations

import importlib
import json

from aws_cdk import ArnFormat, CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from infra.cdk import bundle, derive
from infra.cdk.access import function_role, state_machine_arn
from infra.cdk.data import DataStores
from infra.cdk.functions import Layers, log_group
from infra.cdk.stages import StageConfig
from infra.cdk.waf import ApiFirewall
from shared import resources

API_STAGE = "api"
# API Gateway's own refusals (before the app runs) in the API's one error shape, {"code", "message"}: the
# same codes as the local stand-in (infra/local/gateway.py). $context.error.messageString is already quoted.
GATEWAY_CODES = {
    "UNAUTHORIZED": "token_missing",
    "MISSING_AUTHENTICATION_TOKEN": "route_forbidden",
    "ACCESS_DENIED": "route_forbidden",
    "AUTHORIZER_FAILURE": "authorizer_error",
    "AUTHORIZER_CONFIGURATION_ERROR": "authorizer_error",
    "UNSUPPORTED_MEDIA_TYPE": "unsupported_media_type",
    "REQUEST_TOO_LARGE": "body_too_large",
    "THROTTLED": "throttled",
    "QUOTA_EXCEEDED": "throttled",
    "WAF_FILTERED": "waf_filtered",
    "BAD_REQUEST_BODY": "invalid_json",
    "DEFAULT_4XX": "gateway_refused",
    "DEFAULT_5XX": "gateway_error",
}


def gateway_responses() -> dict:
    return {
        kind: {"ResponseTemplates": {"application/json": '{"code": "%s", "message": $context.error.messageString}' % code},
               "ResponseParameters": {"Headers": {"Content-Type": "'application/json'"}}}
        for kind, code in GATEWAY_CODES.items()
    }  # fmt: skip

AUTHORIZER_TIMEOUT_S = 10
# One JSON line per request. No headers or bodies: plates and signatures stay out of the logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTimeEpoch",
        "method": "$context.httpMethod",
        "resource": "$context.resourcePath",
        "status": "$context.status",
        "bytes": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationStatus": "$context.integrationStatus",
        "wafStatus": "$context.waf.status",
        "authorizerError": "$context.authorizer.error",
    }
)
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


class HttpApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: DataStores, layers: Layers,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = resources.function(derive.HTTP_API)
        extra_environment = environment or {}  # the citizens' user pool, for the token authorizer
        self.function_name = resources.resource_name(spec.logical, stage.name)
        self.api_name = self.function_name
        app_module = spec.handler.rsplit(".", 1)[0]
        authorizers = _authorizers(app_module)
        self.authorizer_names = {a: f"{self.function_name}-{a.replace('_', '-')}" for a in authorizers}

        self.handler_logs = log_group(self, "HandlerLogs", f"/aws/lambda/{self.function_name}", stage)
        self.access_logs = log_group(self, "AccessLogs", f"/aws/apigateway/{self.api_name}/access", stage)
        handler_role = function_role(
            self, "HandlerRole", grants=derive.grants(spec), data=data, stage=stage.name,
            log_group=self.handler_logs, description=f"{self.function_name}: {spec.purpose}",
        )  # fmt: skip
        handler_role.add_to_policy(iam.PolicyStatement(actions=XRAY_ACTIONS, resources=["*"]))
        # Each token authorizer gets its own role: it only reads the signing key.
        authorizer_config, authorizer_logs = {}, {}
        for authorizer, name in self.authorizer_names.items():
            cid = derive.pascal(authorizer)
            authorizer_logs[authorizer] = log_group(self, f"{cid}Logs", f"/aws/lambda/{name}", stage)
            role = function_role(
                self, f"{cid}Role", grants=derive.authorizer_grants(), data=data, stage=stage.name,
                log_group=authorizer_logs[authorizer], description=f"{name}: verifies admin bearer tokens",
            )  # fmt: skip
            role.add_to_policy(iam.PolicyStatement(actions=XRAY_ACTIONS, resources=["*"]))
            authorizer_config[authorizer] = {"iam_role_arn": role.role_arn, "lambda_timeout": AUTHORIZER_TIMEOUT_S}

        environment = derive.environment(spec, stage) | extra_environment
        for machine in spec.state_machines_start:
            environment[resources.state_machine_env(machine)] = state_machine_arn(self, machine, stage.name)
        chalice_stage = self.node.path  # Chalice names its stage after the construct's scope
        config = {
            "version": "2.0",
            "app_name": f"{resources.APP}-api",
            "stages": {
                chalice_stage: {
                    "api_gateway_stage": API_STAGE,
                    "api_gateway_endpoint_type": "REGIONAL",
                    "manage_iam_role": False,
                    "iam_role_arn": handler_role.role_arn,
                    "layers": [layer.layer_version_arn for layer in layers.all],
                    "environment_variables": environment,
                    "lambda_timeout": spec.timeout_s,
                    "lambda_memory_size": stage.function_memory_mb,
                    "xray": True,
                    "lambda_functions": authorizer_config,
                }
            },
        }
        with bundle.chalice_project(app_module, config) as project:
            self.chalice = Chalice(self, "Chalice", source_dir=str(project))

        handler = self.chalice.get_resource("APIHandler")
        handler.add_property_override("FunctionName", self.function_name)
        handler.add_property_override("Description", spec.purpose[:256])
        handler.add_property_override("LoggingConfig", {"LogGroup": self.handler_logs.log_group_name})
        for authorizer, name in self.authorizer_names.items():
            function = self.chalice.get_resource(derive.pascal(authorizer))  # Chalice's logical id
            function.add_property_override("FunctionName", name)
            function.add_property_override("LoggingConfig", {"LogGroup": authorizer_logs[authorizer].log_group_name})

        rest_api = self.chalice.get_resource("RestAPI")
        rest_api.add_property_override("Name", self.api_name)
        rest_api.add_property_override("TracingEnabled", True)
        rest_api.add_property_override("GatewayResponses", gateway_responses())
        rest_api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": stage.api_rate_limit,
                    "ThrottlingBurstLimit": stage.api_burst_limit,
                    "MetricsEnabled": True,
                    "LoggingLevel": "ERROR",
                    "DataTraceEnabled": False,  # would log request bodies, plates included
                }
            ],
        )
        rest_api.add_property_override(
            "AccessLogSetting", {"DestinationArn": _destination_arn(self.access_logs), "Format": ACCESS_LOG_FORMAT}
        )
        rest_api.node.add_dependency(_logging_account(self))
        if stage.domain:
            domain = {
                "DomainName": stage.domain.name,
                "CertificateArn": stage.domain.certificate_arn,
                "EndpointConfiguration": "REGIONAL",
                "SecurityPolicy": "TLS_1_2",
                "BasePath": ["/"],
            }
            if stage.domain.hosted_zone_id:
                domain["Route53"] = {"HostedZoneId": stage.domain.hosted_zone_id}
            rest_api.add_property_override("Domain", domain)
            CfnOutput(self, "CustomDomain", value=f"https://{stage.domain.name}/")

        self.firewall = ApiFirewall(
            self, "Firewall", name=f"{self.api_name}-acl", requests_per_5min_per_ip=stage.waf_requests_per_5min_per_ip
        )


def _authorizers(app_module: str) -> list[str]:
    """The Chalice app's built-in authorizers. Any other Lambda that Chalice would create (a
    ``@app.schedule``, ``@app.lambda_function``...) belongs in shared/resources.py instead: refused."""
    app = importlib.import_module(app_module).app
    others = app.pure_lambda_functions or app.event_sources or app.websocket_handlers
    if others:
        raise ValueError(f"{app_module} declares Lambda functions of its own; define them in shared/resources.py")
    return [auth.name for auth in app.builtin_auth_handlers]


def _logging_account(scope: Construct) -> apigw.CfnAccount:
    """API Gateway writes access and execution logs through one role per account and region."""
    role = iam.Role(
        scope,
        "ApiGatewayLogsRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        ],
    )
    # Kept on stack deletion: another stage in the same account may still log through it.
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    account = apigw.CfnAccount(scope, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    return account


def _destination_arn(group: logs.ILogGroup) -> str:
    # API Gateway wants the log group's ARN without the ":*" suffix that GetAtt Arn carries.
    return Stack.of(group).format_arn(
        service="logs",
        resource="log-group",
        resource_name=group.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
