"""Configuration secrets from SSM Parameter Store (SecureString), cached by Powertools."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

from shared import resources


def admin_token_key() -> str:
    return parameters.get_parameter(
        resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER), decrypt=True, max_age=300
    )
