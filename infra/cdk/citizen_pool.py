"""The citizens' sign-in in AWS: a Cognito user pool whose only flow is the custom phone-code challenge
(``functions/citizen_sign_in``: ``PhoneLogin`` behind Define/Create/Verify-Auth-Challenge), an app client
without secret or password flows, and one group per role. The API's token check accepts the pool's
RS256 ID tokens (issuer and client id in its environment, ``pool_environment``)."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk.stages import StageConfig
from shared import resources
from shared.auth import Role

SIGN_IN_FUNCTION = "citizen-sign-in"  # resources.FUNCTIONS
TRIGGERS = (
    cognito.UserPoolOperation.DEFINE_AUTH_CHALLENGE,
    cognito.UserPoolOperation.CREATE_AUTH_CHALLENGE,
    cognito.UserPoolOperation.VERIFY_AUTH_CHALLENGE_RESPONSE,
    cognito.UserPoolOperation.PRE_SIGN_UP,
    cognito.UserPoolOperation.PRE_TOKEN_GENERATION,
)


class CitizenPool(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, sign_in: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=resources.resource_name("citizens", stage.name),
            sign_in_aliases=cognito.SignInAliases(phone=True, username=False, email=False),
            self_sign_up_enabled=True,  # phone only; confirmed by the pre sign-up trigger, proven at each sign-in
            auto_verify=cognito.AutoVerifiedAttrs(phone=False, email=False),  # no confirmation text from Cognito
            standard_attributes=cognito.StandardAttributes(
                phone_number=cognito.StandardAttribute(required=True, mutable=False)
            ),
            # Set by administrators on staff users only; the app client cannot write them.
            custom_attributes={
                "district": cognito.StringAttribute(min_len=6, max_len=6, mutable=True),
                "operator": cognito.StringAttribute(min_len=1, max_len=64, mutable=True),
            },
            account_recovery=cognito.AccountRecovery.NONE,  # nothing to recover: no password
            mfa=cognito.Mfa.OFF,  # the custom challenge is the phone factor
            enable_sms_role=False,  # Cognito texts nothing itself (no verification, no MFA): the trigger does, via SNS
            deletion_protection=stage.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY,
        )
        for operation in TRIGGERS:
            self.pool.add_trigger(operation, sign_in)
        self.client = self.pool.add_client(
            "ServiceWindow",
            user_pool_client_name=resources.resource_name("service-window", stage.name),
            generate_secret=False,  # a browser and a mini-program keep no secret
            auth_flows=cognito.AuthFlow(custom=True, user_password=False, user_srp=False, admin_user_password=False),
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes().with_standard_attributes(phone_number=True),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(phone_number=True),
        )
        self.groups = {
            role.value: cognito.CfnUserPoolGroup(
                self, f"Group{role.name.title().replace('_', '')}", user_pool_id=self.pool.user_pool_id,
                group_name=role.value, description=f"Tongting role {role.value} (shared.auth.Role)",
            )
            for role in Role
        }  # fmt: skip
        self.issuer = f"https://cognito-idp.{Stack.of(self).region}.{Stack.of(self).url_suffix}/{self.pool.user_pool_id}"
        CfnOutput(self, "UserPoolId", value=self.pool.user_pool_id)
        CfnOutput(self, "ClientId", value=self.client.user_pool_client_id)

    def environment(self) -> dict[str, str]:
        """What the API's token check needs to accept the pool's ID tokens (``shared/adapters/cognito.py``)."""
        return {"TONGTING_COGNITO_ISSUER": self.issuer, "TONGTING_COGNITO_CLIENT_ID": self.client.user_pool_client_id}
