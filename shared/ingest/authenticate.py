"""Who is posting: every request is signed by a registered device (protocol v1 transport)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from shared.clock import Clock
from shared.errors import Unauthenticated
from shared.ingest.ports import AckRecord, NonceClaim, NonceStore
from shared.protocol import signing
from shared.registry.model import Device
from shared.registry.ports import DeviceStore, SecretVault

_NONCE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$", re.ASCII)  # Unix seconds; "²" passes str.isdigit() but is no digit


class DeviceAuthenticator:
    def __init__(self, devices: DeviceStore, vault: SecretVault, nonces: NonceStore, clock: Clock) -> None:
        self._devices, self._vault, self._nonces, self._clock = devices, vault, nonces, clock

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Device:
        device, claim = self.verify(headers, body)
        self.claim(claim)
        return device

    def claim(self, claim: NonceClaim) -> None:
        """Claimed only after the signature holds, so strangers cannot fill the nonce table."""
        if not self._nonces.claim(claim.device_id, claim.nonce, claim.expires_at):
            raise Unauthenticated("nonce already used", code="nonce_replayed")

    def claim_beside(self, claim: NonceClaim, stored: AckRecord) -> None:
        """The request's one event was stored before. Stored by this very request (its nonce is on the ack,
        issue 10): a replay, refused as a claimed nonce is. By another request: a resend, whose nonce is
        claimed on its own (so it cannot be replayed either)."""
        if (stored.device_id, stored.nonce) == (claim.device_id, claim.nonce):
            raise Unauthenticated("nonce already used", code="nonce_replayed")
        self.claim(claim)

    def verify(self, headers: Mapping[str, str], body: bytes) -> tuple[Device, NonceClaim]:
        """Everything but claiming the nonce: the caller claims it (``claim``), or stores it on the ack of
        the request's one event in the transaction that stores the event (issue 10), before it answers."""
        h = {k.lower(): v for k, v in headers.items()}
        device_id = h.get(signing.HEADER_DEVICE.lower())
        timestamp = h.get(signing.HEADER_TIMESTAMP.lower())
        nonce = h.get(signing.HEADER_NONCE.lower())
        signature = h.get(signing.HEADER_SIGNATURE.lower())
        if not (device_id and timestamp and nonce and signature):
            raise Unauthenticated(
                "X-Device-Id, X-Timestamp, X-Nonce and X-Signature are all required", code="signature_missing"
            )
        found = self._devices.get_with_secret(device_id)
        if found is None:
            raise Unauthenticated(f"device {device_id} is not registered", code="unknown_device")
        device, ciphertext = found
        if not device.active:
            raise Unauthenticated(f"device {device_id} is deactivated", code="device_inactive")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Unauthenticated("X-Timestamp must be Unix seconds", code="timestamp_invalid")
        now = self._clock.now()
        if abs(now.timestamp() - int(timestamp)) > signing.WINDOW_SECONDS:
            raise Unauthenticated(
                f"X-Timestamp is more than {signing.WINDOW_SECONDS} s from server time", code="timestamp_out_of_window"
            )
        if not _NONCE.match(nonce):
            raise Unauthenticated("X-Nonce must be 8-64 characters [A-Za-z0-9_-]", code="nonce_invalid")
        secret = self._vault.reveal(device_id, ciphertext)
        if not signing.verify(secret, timestamp, nonce, body, signature):
            raise Unauthenticated("signature does not match", code="bad_signature")
        return device, NonceClaim(device_id, nonce, now + timedelta(seconds=2 * signing.WINDOW_SECONDS))
