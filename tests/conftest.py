"""Fixtures: a manual clock; the platform on in-memory stores (``memory``, the default) or on a fresh
embedded AWS (``stack``: moto in-process, real Step Functions); the HTTP API's test client and a small
registered city with device credentials, on whichever of the two the test asked for.

A test that names ``stack`` runs on the embedded AWS (keep those for adapters, workflows under the ASL
interpreter, streams and the archive); every other test runs on memory stores, without moto.
"""

from __future__ import annotations

import gc
import json
import os
from dataclasses import dataclass

import pytest

# The garbage collector's young generation every 20,000 allocations, not 700: a test process builds and drops
# embedded AWS stacks of ~100k objects that survive the young collections (they live for a test) and then die
# by reference counting, which CPython still counts towards its next FULL collection, so with the default
# thresholds a worker ran a full pass over its whole ~500k-object heap every few stack tests (measured on
# five stack-heavy modules: 9 full passes, 2.9 s of 22 s CPU in the collector; 0 and 0.9 s with these).
# Garbage in cycles is still collected, a little later (a worker's peak RSS ~+30 MB).
gc.set_threshold(20_000, 10, 10)


def _exit_without_teardown() -> None:
    """An xdist worker's last exit handler: its session is over (reports sent, fixtures torn down, pytest's
    own checks at unconfigure done) and the other exit handlers have run, so it leaves without the
    interpreter's teardown of its ~500k-object heap and ~3,000 modules, which the controller waited for
    (1.5-4 s after the last test, measured). ``logging.shutdown`` and stdio, registered before it, flushed."""
    import logging
    import sys

    if not _UNCONFIGURED:  # pytest did not get to its end (a crash): the interpreter's own exit
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed by the gateway already
            pass
    os._exit(0)


_UNCONFIGURED: list[bool] = []

if os.environ.get("PYTEST_XDIST_WORKER"):
    import atexit

    atexit.register(_exit_without_teardown)  # registered before the handlers of later imports: run after them


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    _UNCONFIGURED.append(True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    """The second xdist worker writes the test modules' assert rewrites from the last one backwards while the
    first collects from the first (tests/rewrite_ahead.py says why)."""
    if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
        from tests import rewrite_ahead

        config = session.config
        rewrite_ahead.rewrite_from_the_end(config, rewrite_ahead.modules_of(config.args, config.invocation_params.dir))


os.environ.setdefault("TONGTING_STAGE", "test")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("TONGTING_REVIEW_WINDOW_S", "900")

from hypothesis import settings  # noqa: E402

# Properties, not timings: a per-example deadline fails at random on a loaded 2-core CI machine.
settings.register_profile("tongting", deadline=None)
settings.load_profile("tongting")

from shared.clock import ManualClock  # noqa: E402


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


_MAKE_RUN: dict = {}


@pytest.fixture
def make_run(tmp_path_factory):
    """``make run`` in a scratch directory, ONE for the test session (tests/running_stack.py says why), with
    the sandbox's delivery faults on (duplicated callbacks, newest first): the chaos over HTTP needs them,
    and every other journey on it must come through them too. Started by the first test that asks for it,
    stopped after the last (its modules run one after another: ``pytest_collection_modifyitems``)."""
    if "stack" not in _MAKE_RUN:
        from tests import running_stack

        _MAKE_RUN["stack"] = running_stack.start(tmp_path_factory.mktemp("make-run"),
                                                 extra_env={"TONGTING_SANDBOX_FAULTS": "duplicates=1,reverse_order=1"})
    return _MAKE_RUN["stack"]


def _stop_make_run() -> None:
    stack = _MAKE_RUN.pop("stack", None)
    if stack is not None:
        stack.discard()  # its state is not read again (tests/test_walkthrough.py restarts it with ``stop``)


def pytest_collection_modifyitems(items):
    """The tests on the ``make_run`` stack one after another, where the first of them was (a stable reorder,
    the same in every xdist worker), so the stack is up only while they run."""
    from tests import running_stack

    on_stack = [i for i in items if i.nodeid.split("::")[0] in running_stack.MODULES]
    if on_stack:
        first = items.index(on_stack[0])
        rest = [i for i in items if i.nodeid.split("::")[0] not in running_stack.MODULES]
        items[:] = rest[:first] + on_stack + rest[first:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    from tests import running_stack

    if nextitem is None or nextitem.nodeid.split("::")[0] not in running_stack.MODULES:
        _stop_make_run()


def pytest_sessionfinish(session):
    _stop_make_run()  # an interrupted run


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, except that the modules on the session's ``make_run`` stack form one group, so
    one worker starts it once instead of each worker starting its own, and the modules are handed out in
    ``running_stack.rank``'s order (that group first, the template modules last)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    from tests import running_stack

    class LoadFileSharingMakeRun(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return running_stack.scope(super()._split_scope(nodeid))

        def _assign_work_unit(self, node) -> None:
            if not getattr(self, "_ordered", False):  # the first hand-out: the queue in running_stack's order
                self._ordered = True
                queue = list(self.workqueue.items())  # xdist's order: most tests first
                self.workqueue.clear()
                self.workqueue.update(sorted(queue, key=lambda unit: running_stack.rank(unit[0])))
            super()._assign_work_unit(node)

    return LoadFileSharingMakeRun(config, log)


@pytest.fixture
def stack(clock):
    from infra.local.stack import LocalStack

    with LocalStack(clock) as st:
        yield st


@dataclass
class MemoryPlatform:
    """The services on in-memory stores; ``workflows`` records the executions started and the tokens woken."""

    clock: ManualClock
    services: object

    @property
    def stores(self):
        return self.services.stores

    @property
    def workflows(self):
        return self.services.stores.workflows


@pytest.fixture
def memory(clock):
    from shared import bootstrap

    return MemoryPlatform(clock, bootstrap.configure(clock, bootstrap.memory_stores()))


@pytest.fixture
def platform(request):
    """``stack`` if the test asked for it, else ``memory``: both have ``services`` and ``clock``."""
    return request.getfixturevalue("stack" if "stack" in request.fixturenames else "memory")


@pytest.fixture
def services(platform):
    return platform.services


@pytest.fixture
def api(platform):
    from chalice.test import Client  # here, not at the top: the xdist controller loads this file and runs no test

    from functions.api.app import app
    from infra.local.gateway import shape_test_client

    with Client(app) as client:
        yield shape_test_client(client.http)  # the gateway's own refusals in the API's error shape


@pytest.fixture
def city(platform):
    """Two operators, an enclosed lot and an on-street zone in Liangxi, a lot in Xinwu, their devices."""
    from tests.support import build_city

    return build_city(platform.services.registry)


class DevicePoster:
    """Signs and posts like a device; ``post`` returns (status, json)."""

    def __init__(self, api, clock, device_id: str, secret: str) -> None:
        self.api, self.clock, self.device_id, self.secret = api, clock, device_id, secret

    def post(self, payload, *, path="/v1/events", headers=None, raw: bytes | None = None, secret=None, ts=None, nonce=None):
        from shared.protocol import signing

        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        h = signing.signed_headers(self.device_id, secret or self.secret, body, ts or int(self.clock.now().timestamp()))
        if nonce is not None:
            h["X-Nonce"] = nonce
            h["X-Signature"] = signing.sign(secret or self.secret, h["X-Timestamp"], nonce, body)
        h.update(headers or {})
        resp = self.api.post(path, headers=h, body=body)
        return resp.status_code, json.loads(resp.body or b"null")


@pytest.fixture
def device(api, clock, city):
    def make(device_id: str) -> DevicePoster:
        return DevicePoster(api, clock, device_id, city.secrets[device_id])

    return make
