"""The reactions table (shared/reactions.py) is what the composition root wires, and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared import reactions


def test_a_fact_reaches_every_declared_reaction_in_order():
    heard = []
    services = SimpleNamespace(a=SimpleNamespace(m=lambda x: heard.append(("a", x))),
                               b=SimpleNamespace(n=lambda x: heard.append(("b", x))))  # fmt: skip
    table = reactions.Reactions({"fact": (("a", "m"), ("b", "n"))})
    react = table.listener("fact")  # handed out before the services exist
    table.bind(services)
    react(1)
    assert heard == [("a", 1), ("b", 1)]


def test_an_undeclared_fact_or_a_missing_method_is_refused_at_build():
    table = reactions.Reactions({"fact": (("a", "missing"),)})
    with pytest.raises(KeyError):
        table.listener("other")
    with pytest.raises(AttributeError):
        table.bind(SimpleNamespace(a=SimpleNamespace()))


def test_the_platform_announces_every_declared_fact(memory):
    svc = memory.services
    announcers = {
        reactions.BILL_SETTLED: svc.payments.applier.on_settled,
        reactions.SETUP_CONFIRMED: svc.payments.on_setup,
        reactions.LEFT_ON_PAY_LATER: svc.gate.on_pay_later_exit,
    }
    assert set(announcers) == set(reactions.REACTIONS)
    assert all(len(listeners) == 1 for listeners in announcers.values())
