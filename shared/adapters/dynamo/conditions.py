"""Conditional writes: every state change is one, and a failed condition is an answer, not an error."""

from __future__ import annotations

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model


def save_if(item: Model, condition: Condition) -> bool:
    """Put ``item`` if ``condition`` holds; False if it did not (nothing was written)."""
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def update_if(item: Model, actions: list, condition: Condition) -> bool:
    """Update ``item`` if ``condition`` holds; False if it did not (nothing was written)."""
    try:
        item.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def failed_conditions(exc: TransactWriteError) -> set[int]:
    """Positions of the transaction's items whose condition failed; empty if it failed otherwise."""
    return {i for i, r in enumerate(exc.cancellation_reasons or []) if r is not None and r.code == "ConditionalCheckFailed"}


def versioned(model: type[Model], version: int) -> Condition:
    """The condition for storing a record at ``version``: create it (version 1), or replace version - 1."""
    return model.pk.does_not_exist() if version == 1 else model.version == version - 1
