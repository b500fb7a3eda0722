"""The composition root: builds the services once per process with their adapters and a clock.

Lambda entry points call ``services()``; the local stack and tests call ``configure`` first to give
their own clock (and get fresh clients pointed at the embedded AWS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from shared.adapters import aws
from shared.adapters.archive_bucket import ArchiveBucket
from shared.adapters.device_secrets import DeviceSecretVault
from shared.adapters.dynamo.events import AckStore, NonceStore
from shared.adapters.dynamo.lot_status import LotStatusStore
from shared.adapters.dynamo.registry import DeviceStore, LotStore, OperatorStore
from shared.adapters.dynamo.sessions import SessionStore
from shared.adapters.parameters import admin_token_key
from shared.adapters.workflows import Workflows
from shared.archive.writer import ArchiveWriter
from shared.availability.service import AvailabilityService
from shared.clock import Clock, SystemClock
from shared.ingest.authenticate import DeviceAuthenticator
from shared.ingest.service import EventIngest
from shared.registry.service import RegistryService
from shared.sessions.gate import NoTariffGate
from shared.sessions.service import SessionService
from shared.supervision.liveness import LivenessCheck

DEFAULT_REVIEW_WINDOW_S = 900


@dataclass
class Services:
    clock: Clock
    registry: RegistryService
    ingest: EventIngest
    sessions: SessionService
    availability: AvailabilityService
    archive: ArchiveWriter
    liveness: LivenessCheck
    token_key: Callable[[], str]


def build(clock: Clock) -> Services:
    lots, devices, acks, status = LotStore(), DeviceStore(), AckStore(), LotStatusStore()
    vault = DeviceSecretVault()
    review_after = int(os.environ.get("TONGTING_REVIEW_WINDOW_S", DEFAULT_REVIEW_WINDOW_S))
    sessions = SessionService(SessionStore(), Workflows(), NoTariffGate(), review_after)
    return Services(
        clock=clock,
        registry=RegistryService(OperatorStore(), lots, devices, vault),
        ingest=EventIngest(DeviceAuthenticator(devices, vault, NonceStore(), clock), lots, acks, sessions, status, clock),
        sessions=sessions,
        availability=AvailabilityService(lots, status, clock),
        archive=ArchiveWriter(acks, ArchiveBucket()),
        liveness=LivenessCheck(lots, status, clock),
        token_key=admin_token_key,
    )


_services: Services | None = None


def configure(clock: Clock | None = None) -> Services:
    global _services
    aws.reset()
    _services = build(clock or SystemClock())
    return _services


def services() -> Services:
    return _services or configure()
