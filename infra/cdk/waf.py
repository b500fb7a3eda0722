"""The web ACL in front of the HTTP API: per-IP rate limit and request-size limits.

API Gateway itself accepts bodies up to 10 MB; the protocol allows ``MAX_BODY_BYTES``. WAF can inspect
only the first 8-64 KB of a body, so the body limit is enforced on the declared ``Content-Length``
(a chunked request without one still meets the app's own check).
"""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_wafv2 as waf
from constructs import Construct

from shared.protocol.events import MAX_BODY_BYTES

MAX_URI_BYTES = 1024
MAX_QUERY_BYTES = 2048


def greater_than_regex(limit: int) -> str:
    """A regex matching exactly the decimal strings (leading zeros allowed) whose value exceeds ``limit``."""
    digits = str(limit)
    width = len(digits)
    branches = [rf"[1-9]\d{{{width},}}"]  # more digits than the limit
    for i, digit in enumerate(digits):
        if digit == "9":
            continue
        rest = width - i - 1
        higher = f"[{int(digit) + 1}-9]" if int(digit) < 8 else "9"
        branches.append(digits[:i] + higher + (rf"\d{{{rest}}}" if rest else ""))
    return "^0*(" + "|".join(branches) + ")$"


def _visibility(name: str) -> waf.CfnWebACL.VisibilityConfigProperty:
    return waf.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _block(name: str, priority: int, statement: waf.CfnWebACL.StatementProperty) -> waf.CfnWebACL.RuleProperty:
    return waf.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=waf.CfnWebACL.RuleActionProperty(block={}),
        statement=statement,
        visibility_config=_visibility(name),
    )


def _too_long(part: waf.CfnWebACL.FieldToMatchProperty, size: int) -> waf.CfnWebACL.StatementProperty:
    return waf.CfnWebACL.StatementProperty(
        size_constraint_statement=waf.CfnWebACL.SizeConstraintStatementProperty(
            comparison_operator="GT",
            size=size,
            field_to_match=part,
            text_transformations=[waf.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


class ApiFirewall(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, requests_per_5min_per_ip: int) -> None:
        super().__init__(scope, construct_id)
        oversize_body = waf.CfnWebACL.StatementProperty(
            regex_match_statement=waf.CfnWebACL.RegexMatchStatementProperty(
                regex_string=greater_than_regex(MAX_BODY_BYTES),
                field_to_match=waf.CfnWebACL.FieldToMatchProperty(single_header={"Name": "content-length"}),
                text_transformations=[waf.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        per_ip = waf.CfnWebACL.StatementProperty(
            rate_based_statement=waf.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=requests_per_5min_per_ip, evaluation_window_sec=300
            )
        )
        self.acl = waf.CfnWebACL(
            self,
            "Acl",
            name=name,
            scope="REGIONAL",
            default_action=waf.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=[
                _block("BodyOverLimit", 0, oversize_body),
                _block("UriTooLong", 1, _too_long(waf.CfnWebACL.FieldToMatchProperty(uri_path={}), MAX_URI_BYTES)),
                _block(
                    "QueryTooLong", 2, _too_long(waf.CfnWebACL.FieldToMatchProperty(query_string={}), MAX_QUERY_BYTES)
                ),
                _block("RatePerIp", 3, per_ip),
            ],
        )
        # ``RestAPI`` is the Chalice app's SAM API; ``RestAPI.Stage`` is SAM's reference to the stage it
        # generates, so the association waits for the stage.
        waf.CfnWebACLAssociation(
            self,
            "Association",
            web_acl_arn=self.acl.attr_arn,
            resource_arn=Fn.sub(
                "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPI.Stage}"
            ),
        )
