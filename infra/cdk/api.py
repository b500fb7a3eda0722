"""The HTTP API: the Chalice app in ``functions/api`` behind an API Gateway v2 HTTP API.

Chalice's CDK construct packages the app and generates its handler; the REST API it would also generate
is left out of its template (``_FunctionOnly``). The HTTP API is declared here from the app's route table:
one route per Chalice route and method, a ``$default`` route for everything else (the app answers it 403
``route_forbidden``, or 405 ``method_not_allowed`` for a known path, in the API's error shape), one Lambda proxy integration with payload format 1.0 (the
REST proxy event shape Chalice understands), a stage with auto-deploy, throttling and access logs, and,
optionally, a custom domain. Bearer tokens are verified by the app (``functions/api/http.py``): no
authorizer. Why an HTTP API and what replaced the web ACL: bench/README.md, "The API Gateway flavour".
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from chalice.cdk import Chalice
from constructs import Construct

from infra.cdk import bundle, derive
from infra.cdk.access import function_role, state_machine_arn
from infra.cdk.data import DataStores
from infra.cdk.functions import Layers, log_group
from infra.cdk.stages import StageConfig
from shared import resources

API_STAGE = "api"
DEFAULT_ROUTE = "$default"
INTEGRATION_TIMEOUT_MS = 29_000
# One JSON line per request. No headers or bodies: plates and signatures stay out of the logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTimeEpoch",
        "method": "$context.httpMethod",
        "route": "$context.routeKey",
        "status": "$context.status",
        "bytes": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
    }
)
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


def route_keys(app_module: str) -> list[str]:
    """``"METHOD /path"`` for every route and method of the Chalice app, in its order."""
    app = importlib.import_module(app_module).app
    return [f"{method} {path}" for path, methods in app.routes.items() for method in methods]


def _route_id(route_key: str) -> str:
    """A readable, stable logical id per route (the digest keeps ``/a-b`` and ``/ab`` apart)."""
    words = re.findall(r"[A-Za-z0-9]+", route_key)
    return "Route" + "".join(w[:1].upper() + w[1:].lower() for w in words)[:200] + hashlib.sha256(route_key.encode()).hexdigest()[:6]


class _FunctionOnly(Chalice):
    """Chalice's construct without the REST API: its template keeps the handler function and drops the
    ``AWS::Serverless::Api``, the invoke permission naming it and the outputs naming either. (A private hook
    of ``chalice.cdk``, the step between packaging and including the template; chalice is pinned, and
    tests/infra/test_template_api.py fails if a REST API is left.)"""

    def _generate_sam_template_with_assets(self, chalice_out_dir, package_id):
        path = super()._generate_sam_template_with_assets(chalice_out_dir, package_id)
        with open(path) as handle:
            template = json.load(handle)
        resources_ = template["Resources"]
        dropped = {k for k, v in resources_.items() if v["Type"] == "AWS::Serverless::Api"}
        dropped |= {
            k for k, v in resources_.items()
            if v["Type"] == "AWS::Lambda::Permission" and any(d in json.dumps(v) for d in dropped)
        }  # fmt: skip
        template["Resources"] = {k: v for k, v in resources_.items() if k not in dropped}
        outputs = {k: v for k, v in template.get("Outputs", {}).items() if not any(d in json.dumps(v) for d in dropped)}
        template["Outputs"] = outputs
        if not outputs:
            template.pop("Outputs")
        with open(path, "w") as handle:
            json.dump(template, handle, indent=2)
        return path


class HttpApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: DataStores, layers: Layers,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = resources.function(derive.HTTP_API)
        extra_environment = environment or {}  # the citizens' user pool, for the app's token check
        self.function_name = resources.resource_name(spec.logical, stage.name)
        self.api_name = self.function_name
        app_module = spec.handler.rsplit(".", 1)[0]
        _no_other_lambdas(app_module)

        self.handler_logs = log_group(self, "HandlerLogs", f"/aws/lambda/{self.function_name}", stage)
        self.access_logs = log_group(self, "AccessLogs", f"/aws/apigateway/{self.api_name}/access", stage)
        handler_role = function_role(
            self, "HandlerRole", grants=derive.grants(spec), data=data, stage=stage.name,
            log_group=self.handler_logs, description=f"{self.function_name}: {spec.purpose}",
        )  # fmt: skip
        handler_role.add_to_policy(iam.PolicyStatement(actions=XRAY_ACTIONS, resources=["*"]))

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
                    "manage_iam_role": False,
                    "iam_role_arn": handler_role.role_arn,
                    "layers": [layer.layer_version_arn for layer in layers.all],
                    "environment_variables": environment,
                    "lambda_timeout": spec.timeout_s,
                    "lambda_memory_size": derive.memory_mb(spec, stage),
                    "xray": True,
                }
            },
        }
        with bundle.chalice_project(app_module, config) as project:
            self.chalice = _FunctionOnly(self, "Chalice", source_dir=str(project))

        handler = self.chalice.get_resource("APIHandler")
        handler.add_property_override("FunctionName", self.function_name)
        handler.add_property_override("Description", spec.purpose[:256])
        handler.add_property_override("LoggingConfig", {"LogGroup": self.handler_logs.log_group_name})
        handler_arn = handler.get_att("Arn").to_string()

        self.api = apigw.CfnApi(
            self, "HttpApi", name=self.api_name, protocol_type="HTTP",
            description=f"{self.function_name}: the platform's HTTP API (Chalice app {app_module})",
        )  # fmt: skip
        integration = apigw.CfnIntegration(
            self, "Integration", api_id=self.api.ref, integration_type="AWS_PROXY", integration_uri=handler_arn,
            integration_method="POST", payload_format_version="1.0", timeout_in_millis=INTEGRATION_TIMEOUT_MS,
        )  # fmt: skip
        target = f"integrations/{integration.ref}"
        self.route_keys = [*route_keys(app_module), DEFAULT_ROUTE]
        routes = [
            apigw.CfnRoute(self, "DefaultRoute" if key == DEFAULT_ROUTE else _route_id(key), api_id=self.api.ref,
                           route_key=key, target=target, authorization_type="NONE")
            for key in self.route_keys
        ]  # fmt: skip
        self.stage = apigw.CfnStage(
            self, "Stage", api_id=self.api.ref, stage_name=API_STAGE, auto_deploy=True,
            default_route_settings=apigw.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=stage.api_rate_limit, throttling_burst_limit=stage.api_burst_limit,
                detailed_metrics_enabled=False,
            ),
            # Requests for no route of ours (scanners): their own, small budget.
            route_settings={DEFAULT_ROUTE: {
                "ThrottlingRateLimit": stage.unrouted_rate_limit,
                "ThrottlingBurstLimit": int(stage.unrouted_rate_limit * 2),
            }},
            access_log_settings=apigw.CfnStage.AccessLogSettingsProperty(
                destination_arn=_destination_arn(self.access_logs), format=ACCESS_LOG_FORMAT,
            ),
        )  # fmt: skip
        for route in routes:
            self.stage.node.add_dependency(route)
        # API Gateway may invoke the handler for this API's routes only (any stage, any route).
        lambda_.CfnPermission(
            self, "InvokeHandler", action="lambda:InvokeFunction", function_name=handler_arn,
            principal="apigateway.amazonaws.com",
            source_arn=Stack.of(self).format_arn(
                service="execute-api", resource=self.api.ref, resource_name="*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )  # fmt: skip
        CfnOutput(self, "Url", value=f"{self.api.attr_api_endpoint}/{API_STAGE}/")
        if stage.domain:
            domain = apigw.CfnDomainName(
                self, "Domain", domain_name=stage.domain.name,
                domain_name_configurations=[apigw.CfnDomainName.DomainNameConfigurationProperty(
                    certificate_arn=stage.domain.certificate_arn, endpoint_type="REGIONAL", security_policy="TLS_1_2",
                )],
            )  # fmt: skip
            mapping = apigw.CfnApiMapping(self, "DomainMapping", api_id=self.api.ref, domain_name=domain.ref,
                                          stage=self.stage.ref)  # fmt: skip
            mapping.node.add_dependency(domain)
            if stage.domain.hosted_zone_id:
                route53.CfnRecordSet(
                    self, "DomainRecord", hosted_zone_id=stage.domain.hosted_zone_id, name=stage.domain.name,
                    type="A", alias_target=route53.CfnRecordSet.AliasTargetProperty(
                        dns_name=domain.attr_regional_domain_name,
                        hosted_zone_id=domain.attr_regional_hosted_zone_id,
                    ),
                )  # fmt: skip
            CfnOutput(self, "CustomDomain", value=f"https://{stage.domain.name}/")


def _no_other_lambdas(app_module: str) -> None:
    """Any Lambda that Chalice would create besides the handler (an authorizer, a ``@app.schedule``,
    ``@app.lambda_function``...) belongs in shared/resources.py (or, for authorization, in the app): refused."""
    app = importlib.import_module(app_module).app
    if app.builtin_auth_handlers or app.pure_lambda_functions or app.event_sources or app.websocket_handlers:
        raise ValueError(f"{app_module} declares Lambda functions of its own; define them in shared/resources.py")


def _destination_arn(group: logs.ILogGroup) -> str:
    # API Gateway wants the log group's ARN without the ":*" suffix that GetAtt Arn carries.
    return Stack.of(group).format_arn(
        service="logs",
        resource="log-group",
        resource_name=group.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
