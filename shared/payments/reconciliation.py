"""Daily reconciliation: each provider's transactions of one local day, matched against our payments.

Callbacks get lost, and providers and platforms disagree now and then; once a day each provider is asked
what it took, and the two sides are compared:

- succeeded at the provider, not here (a lost callback): applied through ``PaymentApplier``, exactly once;
- succeeded at the provider, unknown here: a finding ``unknown_at_platform`` for staff;
- succeeded on both sides with different amounts: a finding ``amount_mismatch`` with both amounts;
- succeeded here, absent (or not succeeded) at the provider: a finding ``missing_at_provider``.

Findings are keyed by provider, day, kind and reference and written put-if-absent, so a re-run (a retried
Lambda, staff running a day again) applies nothing twice and records nothing new.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from shared.clock import SHANGHAI, Clock, iso
from shared.observability import count, logger
from shared.payments.applier import PaymentApplier, PaymentContention
from shared.payments.model import Payment, PaymentState
from shared.payments.ports import MoneyStore
from shared.payments.provider import PaymentProvider, PaymentStatus, ProviderError, ProviderTransaction

UNKNOWN_AT_PLATFORM = "unknown_at_platform"
AMOUNT_MISMATCH = "amount_mismatch"
MISSING_AT_PROVIDER = "missing_at_provider"
NOT_RECONCILED = ("legacy",)  # a lot's own pay code: there is no provider to ask
# Our payment is stamped before the provider's record is created: one made at 23:59:59 may be listed by
# the provider on the next day. The listing is widened by this much, for matching only.
OVERLAP = timedelta(minutes=10)
TALLIES = ("listed", "matched", "applied", "findings_new", "findings_known", "errors")


def day_window(day: date) -> tuple[datetime, datetime]:
    """[00:00, 24:00) of ``day`` in Asia/Shanghai."""
    start = datetime.combine(day, time.min, SHANGHAI)
    return start, start + timedelta(days=1)


def yesterday(clock: Clock) -> date:
    return clock.now().astimezone(SHANGHAI).date() - timedelta(days=1)


class Reconciliation:
    def __init__(
        self, money: MoneyStore, applier: PaymentApplier, providers: dict[str, PaymentProvider], clock: Clock
    ) -> None:
        self._money, self._applier, self._providers, self._clock = money, applier, providers, clock

    def run(self, day: date | None = None) -> dict:
        """Reconcile ``day`` (default: yesterday, Shanghai) with every provider. Returns a summary."""
        day = day or yesterday(self._clock)
        summary = {
            name: self._provider(name, provider, day)
            for name, provider in self._providers.items()
            if name not in NOT_RECONCILED
        }
        return {"day": day.isoformat(), "providers": summary}

    def _provider(self, name: str, provider: PaymentProvider, day: date) -> dict:
        start, end = day_window(day)
        try:
            listed = provider.list_transactions(start - OVERLAP, end + OVERLAP)
        except (NotImplementedError, AttributeError) as exc:
            logger.warning("provider cannot list its transactions", extra={"provider": name, "error": str(exc)})
            return {"skipped": "no_transaction_list"}
        except ProviderError as exc:  # nothing was recorded for this provider: a re-run does the whole day
            logger.error("provider listing failed", extra={"provider": name, "day": day.isoformat(), "error": str(exc)})
            return {"skipped": "provider_unavailable"}
        tally: Counter[str] = Counter({k: 0 for k in TALLIES})
        at_provider: dict[str, ProviderTransaction] = {}  # our payment id -> the provider's record of it
        for txn in listed:
            payment = self._ours(txn)
            if payment is not None and (payment.payment_id not in at_provider or txn.status is PaymentStatus.SUCCEEDED):
                at_provider[payment.payment_id] = txn
            if start <= txn.created_at < end:  # the overlap is only for matching: its own day handles the rest
                tally["listed"] += 1
                if txn.status is PaymentStatus.SUCCEEDED:
                    self._match(name, day, txn, payment, tally)
        for payment in self._money.payments_on(name, day.isoformat()):
            txn = at_provider.get(payment.payment_id)
            if payment.state is PaymentState.SUCCEEDED and (txn is None or txn.status is not PaymentStatus.SUCCEEDED):
                self._flag(tally, MISSING_AT_PROVIDER, name, day, payment, txn)
        return dict(tally)

    def _ours(self, txn: ProviderTransaction) -> Payment | None:
        """By the payment id we sent as metadata, else by the provider's reference."""
        payment = self._money.payment(txn.payment_id) if txn.payment_id else None
        return payment or self._money.payment_by_ref(txn.provider_ref)

    def _match(self, name: str, day: date, txn: ProviderTransaction, payment: Payment | None, tally: Counter) -> None:
        if payment is None:
            self._flag(tally, UNKNOWN_AT_PLATFORM, name, day, None, txn)
            return
        if payment.state is not PaymentState.SUCCEEDED:  # a lost callback: apply what the provider took
            try:
                outcome = self._applier.succeeded(payment.payment_id, txn.amount_fen, txn.provider_ref, txn.created_at)
            except PaymentContention:  # busy right now; the next run (or a late callback) applies it
                logger.warning("could not apply a lost callback", extra={"payment_id": payment.payment_id})
                tally["errors"] += 1
                return
            if outcome == "applied":
                count("ReconciliationApplied")
                tally["applied"] += 1
            if txn.amount_fen != payment.amount_fen:  # applied with the provider's amount: staff should know
                self._flag(tally, AMOUNT_MISMATCH, name, day, payment, txn, applied=True)
        elif txn.amount_fen != payment.amount_fen:
            self._flag(tally, AMOUNT_MISMATCH, name, day, payment, txn)
        else:
            tally["matched"] += 1

    def findings(self, principal) -> list[dict]:
        """Findings for staff, as ``shared.access`` scopes bills: the city and auditors all of them, district
        staff and operators those of their bills (a payment unknown here has no bill: the city's to chase)."""
        from shared import access

        access.require_staff(principal, "reconciliation findings")
        out = []
        for finding in self._money.findings():
            bill = self._money.bill(finding["bill_id"]) if finding.get("bill_id") else None
            if principal.is_city or (bill is not None and access.may_read_bill(principal, bill)):
                out.append(finding)
        return sorted(out, key=lambda f: (f.get("day") or "", f.get("found_at") or ""), reverse=True)

    def _flag(
        self, tally: Counter, kind: str, name: str, day: date,
        payment: Payment | None, txn: ProviderTransaction | None, **evidence: object,
    ) -> None:  # fmt: skip
        """Record a finding for staff, once: its key is the same on every run."""
        provider_ref = (txn.provider_ref if txn else None) or (payment.provider_ref if payment else None)
        ref = provider_ref or (payment.payment_id if payment else "?")
        finding = {
            "kind": kind,
            "provider": name,
            "day": day.isoformat(),
            "payment_id": payment.payment_id if payment else (txn.payment_id if txn else None),
            "provider_ref": provider_ref,
            "platform_amount_fen": payment.amount_fen if payment else None,
            "provider_amount_fen": txn.amount_fen if txn else None,
            "bill_id": payment.bill_id if payment else None,
            "found_at": iso(self._clock.now()),
            "evidence": {
                "provider_status": txn.status.value if txn else None,
                "provider_created_at": iso(txn.created_at) if txn else None,
                "platform_state": payment.state.value if payment else None,
                "platform_created_at": iso(payment.created_at) if payment else None,
                "platform_succeeded_at": iso(payment.succeeded_at) if payment and payment.succeeded_at else None,
                "listed_from": iso(day_window(day)[0] - OVERLAP),
                "listed_until": iso(day_window(day)[1] + OVERLAP),
                **evidence,
            },
        }
        if self._money.record_finding(f"{name}#{day.isoformat()}#{kind}#{ref}", finding):
            count("ReconciliationFinding")
            logger.warning("reconciliation finding", extra={k: finding[k] for k in ("kind", "provider", "payment_id")})
            tally["findings_new"] += 1
        else:
            tally["findings_known"] += 1
