"""What happens elsewhere when something happens: every cross-service reaction, in one table.

A service announces a fact through a listener it was given at construction (``PaymentApplier(on_settled=)``,
``PaymentService(on_setup=)``); the composition root (``shared.bootstrap``) connects each announcement to the
services' methods named here, once every service exists. To add a reaction: a row here, and a method of that
name on the service (a field of ``bootstrap.Services``); to add a fact: a name here and a listener parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BILL_SETTLED = "bill_settled"  # a bill has nothing left to pay (PaymentApplier)
SETUP_CONFIRMED = "setup_confirmed"  # a provider confirmed a saved payment method (PaymentService)
LEFT_ON_PAY_LATER = "left_on_pay_later"  # the gate opened on pay-later with this bill due (BillingGate)
# (the billing workflow starts only when the grace period ends unpaid: PayLaterService.sweep, on a schedule)

# fact -> (Services field, method), called in this order
REACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    BILL_SETTLED: (("pay_later", "bill_settled"), ("arrears", "bill_settled"), ("sharing", "bill_settled")),
    SETUP_CONFIRMED: (("citizens", "setup_confirmed"),),
    LEFT_ON_PAY_LATER: (("pay_later", "await_grace_end"),),
}


class Reactions:
    """Late binding of the table: services get ``listener(fact)`` before the reacting services exist."""

    def __init__(self, table: dict[str, tuple[tuple[str, str], ...]] = REACTIONS) -> None:
        self._table = table
        self._services: Any = None

    def listener(self, fact: str) -> Callable[[Any], None]:
        if fact not in self._table:
            raise KeyError(f"no reaction to {fact!r} is declared in shared.reactions.REACTIONS")

        def react(subject: Any) -> None:
            for field, method in self._table[fact]:
                getattr(getattr(self._services, field), method)(subject)

        return react

    def bind(self, services: Any) -> None:
        for fact, rows in self._table.items():
            for field, method in rows:
                if not callable(getattr(getattr(services, field, None), method, None)):
                    raise AttributeError(f"reaction to {fact}: services.{field}.{method} does not exist")
        self._services = services
