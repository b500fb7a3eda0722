"""The ETC channel: the car's OBU account is debited by its ETC issuer (a bank). We send a deduction
request keyed by our payment_id; the issuer answers asynchronously with a signed notification, so a
create returns PENDING and the ledger moves only on the callback."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from shared.adapters.payments import signed_callbacks
from shared.adapters.payments.outbox import CallbackSimulator, DeliveryBehaviour
from shared.clock import SHANGHAI, Clock
from shared.errors import Conflict, InvalidInput, NotFound
from shared.payments.provider import (
    CallbackEvent,
    CallbackKind,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderSetup,
    ProviderTransaction,
    SetupRequest,
)

SIGNATURE_HEADER = "X-ETC-Signature"
_STATUS = {"pending": PaymentStatus.PENDING, "success": PaymentStatus.SUCCEEDED, "failure": PaymentStatus.FAILED}


@dataclass(frozen=True)
class Deduction:
    """One deduction as the issuer records it. ``result``: pending / success / failure."""

    deduction_id: str  # our payment_id
    issuer_ref: str
    plate: str
    amount_fen: int
    lot_ref: str
    requested_at: datetime
    result: str = "pending"
    reason: str | None = None
    refunded_fen: int = 0


class EtcIssuerClient(Protocol):
    """The issuer's API. Each call is idempotent on our id (deduction_id, refund_id)."""

    def request_deduction(self, deduction_id: str, plate: str, amount_fen: int, lot_ref: str) -> str:
        """Returns the issuer's reference; the result comes later as a notification."""
        ...

    def request_refund(self, issuer_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> str:
        """Refunds are answered synchronously: returns the issuer's refund reference once done."""
        ...

    def list_deductions(self, start: datetime, end: datetime) -> list[Deduction]: ...


class EtcProvider:
    """The payment port over an ETC issuer."""

    name = "etc"

    def __init__(
        self,
        issuer: EtcIssuerClient,
        *,
        secret: str,
        clock: Clock,
        tolerance_s: int = signed_callbacks.DEFAULT_TOLERANCE_S,
    ) -> None:
        self.issuer = issuer
        self._secret = secret
        self._clock = clock
        self._tolerance_s = tolerance_s

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """The lot we pass is ``metadata["lot_id"]`` (what the car's statement shows), else the destination."""
        if not request.plate:
            raise InvalidInput("An ETC deduction needs the plate", code="plate_required")
        lot_ref = request.metadata.get("lot_id") or request.destination
        issuer_ref = self.issuer.request_deduction(request.payment_id, request.plate, request.amount_fen, lot_ref)
        return ProviderPayment(
            provider=self.name, provider_ref=issuer_ref, status=PaymentStatus.PENDING, amount_fen=request.amount_fen
        )

    def refund(self, payment_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> ProviderRefund:
        refund_ref = self.issuer.request_refund(payment_ref, amount_fen, refund_id=refund_id, reason=reason)
        return ProviderRefund(
            provider=self.name,
            provider_ref=refund_ref,
            payment_ref=payment_ref,
            amount_fen=amount_fen,
            status="succeeded",
        )

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        header = signed_callbacks.header(headers, SIGNATURE_HEADER)
        signed_callbacks.verify(self._secret, header, body, self._clock.now(), self._tolerance_s)
        try:
            note = json.loads(body)
            result = note["result"]
            kind = {"success": CallbackKind.PAYMENT_SUCCEEDED, "failure": CallbackKind.PAYMENT_FAILED}.get(
                result, CallbackKind.IGNORED
            )
            return CallbackEvent(
                provider=self.name,
                event_id=note["notify_id"],
                kind=kind,
                occurred_at=datetime.fromtimestamp(note["time"], SHANGHAI),
                provider_ref=note.get("issuer_ref"),
                payment_id=note.get("deduction_id"),
                amount_fen=note.get("amount_fen"),
                decline_code=note.get("reason") if kind is CallbackKind.PAYMENT_FAILED else None,
                raw_type=f"deduction.{result}",
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("The callback body is not an ETC notification", code="bad_payload") from exc

    def list_transactions(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        return [
            ProviderTransaction(
                provider=self.name,
                provider_ref=d.issuer_ref,
                payment_id=d.deduction_id,
                amount_fen=d.amount_fen,
                status=_STATUS.get(d.result, PaymentStatus.PENDING),
                created_at=d.requested_at,
            )
            for d in self.issuer.list_deductions(start, end)
        ]

    def create_setup(self, request: SetupRequest) -> ProviderSetup:
        raise InvalidInput("ETC needs no saved method: the OBU account is found by plate", code="setup_not_supported")


@dataclass
class EtcBehaviour(DeliveryBehaviour):
    """The simulated issuer's knobs. ``auto_resolve=False`` holds deductions pending until ``resolve``."""

    decline_plates: set[str] = field(default_factory=set)
    decline_reason: str = "insufficient_balance"
    auto_resolve: bool = True
    error_next_request: int = 0


def _ref(prefix: str, key: str) -> str:
    return f"etc_{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:20]}"


class SimulatedEtcIssuer(CallbackSimulator):
    """An ETC issuer for the local stack and tests, with the sandbox's outbox and delivery knobs."""

    def __init__(self, clock: Clock, *, secret: str, behaviour: EtcBehaviour | None = None):
        super().__init__(clock, secret, SIGNATURE_HEADER, behaviour or EtcBehaviour())
        self.behaviour: EtcBehaviour
        self.secret = secret
        self._deductions: dict[str, Deduction] = {}  # by issuer_ref
        self._refunds: dict[str, tuple[str, int, str]] = {}  # refund_id -> (issuer_ref, amount, refund_ref)

    def request_deduction(self, deduction_id: str, plate: str, amount_fen: int, lot_ref: str) -> str:
        with self._lock:
            if self.behaviour.error_next_request > 0:
                self.behaviour.error_next_request -= 1
                raise ProviderError("etc: simulated issuer outage")
            ref = _ref("d", deduction_id)
            existing = self._deductions.get(ref)
            if existing is not None:
                if (existing.plate, existing.amount_fen) != (plate, amount_fen):
                    raise InvalidInput("Deduction id reused with other parameters", code="idempotency_key_reused")
                return ref
            self._deductions[ref] = Deduction(deduction_id, ref, plate, amount_fen, lot_ref, self._clock.now())
            if self.behaviour.auto_resolve:
                declined = plate in self.behaviour.decline_plates
                self._resolve(ref, not declined, self.behaviour.decline_reason if declined else None)
            return ref

    def resolve(self, issuer_ref: str, *, success: bool, reason: str | None = None) -> None:
        """Answer a held deduction (``auto_resolve=False``)."""
        with self._lock:
            if self._get(issuer_ref).result != "pending":
                raise Conflict("The deduction is already answered", code="deduction_already_resolved")
            self._resolve(issuer_ref, success, None if success else reason or self.behaviour.decline_reason)

    def request_refund(self, issuer_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> str:
        with self._lock:
            if refund_id in self._refunds:
                ref, amount, refund_ref = self._refunds[refund_id]
                if (ref, amount) != (issuer_ref, amount_fen):
                    raise InvalidInput("Refund id reused with other parameters", code="idempotency_key_reused")
                return refund_ref
            deduction = self._get(issuer_ref)
            if deduction.result != "success":
                raise InvalidInput("Only a successful deduction can be refunded", code="payment_not_captured")
            if amount_fen <= 0:
                raise InvalidInput("A refund must be positive", code="invalid_amount")
            if deduction.refunded_fen + amount_fen > deduction.amount_fen:
                raise InvalidInput("The refund exceeds the deduction", code="refund_exceeds_payment")
            self._deductions[issuer_ref] = replace(deduction, refunded_fen=deduction.refunded_fen + amount_fen)
            refund_ref = _ref("r", refund_id)
            self._refunds[refund_id] = (issuer_ref, amount_fen, refund_ref)
            return refund_ref

    def list_deductions(self, start: datetime, end: datetime) -> list[Deduction]:
        with self._lock:
            return sorted(
                (d for d in self._deductions.values() if start <= d.requested_at < end), key=lambda d: d.requested_at
            )

    def _get(self, issuer_ref: str) -> Deduction:
        if issuer_ref not in self._deductions:
            raise NotFound(f"No ETC deduction {issuer_ref}", code="payment_not_found")
        return self._deductions[issuer_ref]

    def _resolve(self, issuer_ref: str, success: bool, reason: str | None) -> None:
        d = replace(self._deductions[issuer_ref], result="success" if success else "failure", reason=reason)
        self._deductions[issuer_ref] = d
        note = {
            "notify_id": f"etcn_{secrets.token_hex(12)}",
            "deduction_id": d.deduction_id,
            "issuer_ref": d.issuer_ref,
            "result": d.result,
            "amount_fen": d.amount_fen,
            "reason": d.reason,
            "time": int(self._clock.now().timestamp()),
        }
        self._emit(note, issuer_ref)
