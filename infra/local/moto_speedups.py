"""Costs that a fresh embedded AWS pays again and again (moto's and Powertools'), paid once per process instead.

- Creating a state machine parses its ASL with moto's ANTLR parser only to validate it (~0.2 s each,
  three machines per stack): a definition already found valid is not parsed again. An execution still
  parses its definition, so a broken file fails exactly as before (``tests/infra/test_asl.py`` also
  validates every file with the reference validator).
- moto gives every KMS key an RSA-2048 private key, even a symmetric one, whose encryption uses other key
  material (~0.1-0.3 s a key): the key pair is generated once per key spec. Tongting has no asymmetric
  KMS keys, so no test signs with a key pair another key shares.
- Powertools' ``parameters.clear_caches()`` drops the SSM provider with the cached values, and the next
  read builds a provider with a boto3 session and client of its own (~0.3 s: botocore reads the endpoint
  rules and the SSM model from disk again). ``forget_parameters`` clears the values and keeps one provider
  on the process's SSM client.
- Creating the ~23 tables through the API (each answer a full table description that moto serialises) is
  half of a stack's provisioning (~0.06 s of ~0.12 s): a process's first embedded AWS creates them so, and
  each later fresh one in the process gets copies of those tables as they were just created, empty
  (``tables_once``; moto's own table backups are deep copies of its ``Table`` objects likewise).
  The definitions are the key: a changed definition or stage is created through the API again.
  The Lambda functions likewise (``functions_once``, ~0.035 s a stack): each copy is put into moto's
  Lambda backend as its CreateFunction does, which checks that the role (created through the API) exists.
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Callable, Sequence

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.kms import models as kms_models
from moto.logs.models import logs_backends
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from shared.adapters.aws import client

_valid: set[str] = set()
_original_validate = StepFunctionsParserBackend._validate_definition
_original_key = kms_models.generate_private_key


def _validate_once(definition: str) -> None:
    if definition not in _valid:
        _original_validate(definition=definition)
        _valid.add(definition)


@functools.cache
def _key_pair(key_spec: str):
    return _original_key(key_spec)


def install() -> None:
    StepFunctionsParserBackend._validate_definition = staticmethod(_validate_once)
    kms_models.generate_private_key = _key_pair


def forget_parameters() -> None:
    """Forget the cached parameter values (a fresh or restored embedded AWS holds others); the next read
    asks the embedded SSM again."""
    parameters.clear_caches()
    DEFAULT_PROVIDERS["ssm"] = parameters.SSMProvider(boto3_client=client("ssm"))


_created_tables: dict[tuple, bytes] = {}
_created_functions: dict[tuple, bytes] = {}


def tables_once(tables: Sequence, create_table: Callable[[object], None]) -> None:
    """Create ``tables`` in the fresh embedded AWS: through ``create_table`` (the API) the first time in the
    process, afterwards as copies of the tables that made, just created."""
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    dynamodb = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][region]
    key = (region, tuple((t.name, repr(t)) for t in tables))
    if key in _created_tables and not dynamodb.tables:
        dynamodb.tables.update(pickle.loads(_created_tables[key]))
        return
    for table in tables:
        create_table(table)
    created = {t.name: dynamodb.tables.get(t.name) for t in tables}
    if all(created.values()):  # else made in another account (credentials of another): the API every time
        _created_tables[key] = pickle.dumps(created)


def functions_once(functions: Sequence, env: dict[str, str], create_function: Callable[[object], str]) -> dict[str, str]:
    """Create ``functions`` (with ``env``) in the fresh embedded AWS: through ``create_function`` (the API,
    returning the function's ARN) the first time in the process, afterwards as copies of the functions that
    made, just created. Returns each function's ARN by logical name."""
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    lambdas = get_backend("lambda")[DEFAULT_ACCOUNT_ID][region]._lambdas
    key = (region, tuple((f.name, repr(f)) for f in functions), tuple(sorted(env.items())))
    if key in _created_functions and not lambdas._functions:
        arns = {}
        for logical, fn in pickle.loads(_created_functions[key]):
            fn.logs_backend = logs_backends[DEFAULT_ACCOUNT_ID][region]  # the live one, not the pickled copy
            lambdas.put_function(fn)
            arns[logical] = fn.function_arn
        return arns
    arns = {f.logical: create_function(f) for f in functions}
    created = [(f.logical, lambdas._functions.get(f.name, {}).get("latest")) for f in functions]
    if all(fn is not None and fn.function_arn == arns[logical] for logical, fn in created):
        _created_functions[key] = pickle.dumps(created)
    return arns
