"""Daily settlement and the half-yearly platform service fee, over ports (no adapters imported).

``SettlementService.settle(day)`` issues one statement per operator for a local day. It is idempotent:
a statement that exists is returned as issued, so a re-run (or a retry after a crash half-way through
the operators) gives the same statements and issues only the missing ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from shared.auth import Principal
from shared.clock import SHANGHAI, Clock, iso
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.ledger.accounts import Account
from shared.ledger.model import Posting
from shared.observability import count, logger
from shared.settlement import model
from shared.settlement.model import FeeRate, FeeStatement, Statement
from shared.settlement.ports import Owners, PostingReader, StatementStore

LOOKBACK_DAYS = 3  # a posting dated this many days back and never settled is still caught as late
DISTRICTS = ("320205", "320206", "320211", "320213", "320214", "320281", "320282")
PROVIDERS = ("wechat", "alipay", "unionpay", "etc", "stripe", "sandbox", "legacy")


def may_read_statement(principal: Principal, district_code: str, operator_id: str) -> None:
    """The one access rule for statements and fee statements: city staff and auditors all, district
    staff and platforms their district's operators, an operator its own; nobody else."""
    principal.require_read(district_code, operator_id)
    if principal.is_citizen:
        raise Forbidden("statements are for staff and operators", code="role_forbidden")


def yesterday(clock: Clock) -> date:
    return clock.now().astimezone(SHANGHAI).date() - timedelta(days=1)


class SettlementService:
    def __init__(
        self, ledger: PostingReader, owners: Owners, store: StatementStore, clock: Clock,
        providers: Iterable[str] = PROVIDERS, lookback_days: int = LOOKBACK_DAYS,
    ) -> None:  # fmt: skip
        self._ledger, self._owners, self._store, self._clock = ledger, owners, store, clock
        self._providers, self._lookback = tuple(dict.fromkeys(providers)), lookback_days
        # The providers' reconciliation findings (``MoneyStore.findings``), wired by the composition root;
        # None: statements are not compared with the providers.
        self.findings: Callable[[], list[dict]] | None = None

    def _accounts(self, operators: list[tuple[str, str, str]]) -> list[str]:
        accounts = [a for op, _, _ in operators for a in (Account.operator_revenue(op), Account.operator_discounts(op))]
        accounts += [Account.provider_clearing(p) for p in self._providers]
        return accounts + [Account.write_off(d) for d in DISTRICTS]

    def settle(self, day: date | None = None) -> dict:
        """Issue every operator's statement for ``day`` (default yesterday, Shanghai)."""
        day = day or yesterday(self._clock)
        if day >= self._clock.now().astimezone(SHANGHAI).date():
            raise InvalidInput(f"{day} is not over yet", code="day_not_over")
        operators = self._owners.operators()
        label = day.isoformat()
        todo = [o for o in operators if self._store.get(o[0], label) is None]
        summary = {"day": label, "operators": len(operators), "issued": 0, "already_issued": len(operators) - len(todo)}
        if not todo:
            return summary
        first = day - timedelta(days=self._lookback)
        start, _ = model.day_window(first)
        _, end = model.day_window(day)
        postings = self._ledger.postings(self._accounts(todo), start, end)
        lots: dict[str, tuple[str, str] | None] = {}
        bills: dict[str, str | None] = {}

        def lot_of_bill(bill_id: str) -> str | None:
            if bill_id not in bills:
                bills[bill_id] = self._owners.bill_lot(bill_id)
            return bills[bill_id]

        def operator_of_lot(lot_id: str) -> str | None:
            if lot_id not in lots:
                lots[lot_id] = self._owners.lot(lot_id)
            return (lots[lot_id] or (None,))[0]

        by_operator: dict[str, list[Posting]] = {}
        unattributed = 0
        for p in postings:
            if p.kind.value == "platform_fee":
                continue  # the fee has its own books (S10)
            op = model.attribute(p, operator_of_lot, lot_of_bill)
            if op is None:
                unattributed += 1
                continue
            by_operator.setdefault(op, []).append(p)
        if unattributed:
            logger.warning("postings without an operator", extra={"day": label, "count": unattributed})
        for operator_id, district, _ in todo:
            mine = by_operator.get(operator_id, [])
            own = [p for p in mine if model.local_day(p.occurred_at) == label]
            earlier = [p for p in mine if model.local_day(p.occurred_at) < label]
            covered: set[str] = set()
            settled_days: set[str] = set()
            previous = None
            for back in range(self._lookback, 0, -1):
                st = self._store.get(operator_id, (day - timedelta(days=back)).isoformat())
                if st is not None:
                    covered |= self._store.covered(st)
                    settled_days.add(st.day)
                    previous = st
            # An earlier day's posting is late if that day was settled without it; a day never settled
            # (before settlement began) is not this statement's business.
            late = [p for p in earlier if model.local_day(p.occurred_at) in settled_days and p.posting_id not in covered]
            own = [p for p in own if p.posting_id not in covered]
            opening = previous.closing_receivables_fen if previous else 0
            st = model.build(operator_id, district, label, self._clock.now(), own, late,
                             lambda p: model.lot_of(p, lot_of_bill), opening)
            st = st.model_copy(update={"unattributed": unattributed})
            if self._store.issue(st, sorted(p.posting_id for p in (*own, *late))):
                count("StatementIssued")
                summary["issued"] += 1
            else:
                summary["already_issued"] += 1
        return summary

    def reconciliation(self, statement: Statement, findings: list[dict] | None = None) -> dict:
        """The statement against the providers' daily reconciliation (``shared.payments.reconciliation``): the
        findings of its days (the day and its late days) on bills of its operator. A statement agrees with
        the providers when none is left; each finding stays listed with both amounts for staff."""
        if self.findings is None:
            return {"compared": False, "agrees": None, "findings": [], "problems": []}
        days = {statement.day, *statement.late_days}
        mine = []
        for f in self.findings() if findings is None else findings:
            if f.get("day") not in days or not f.get("bill_id"):
                continue
            lot = self._owners.bill_lot(f["bill_id"])
            owner = self._owners.lot(lot) if lot else None
            if owner and owner[0] == statement.operator_id:
                mine.append(f)
        mine.sort(key=lambda f: (f["day"], f["provider"], f["kind"], f.get("payment_id") or ""))
        problems = [f"{statement.statement_id}: {f['provider']} {f['day']} {f['kind']}: payment {f.get('payment_id')} "
                    f"platform {f.get('platform_amount_fen')} fen, provider {f.get('provider_amount_fen')} fen" for f in mine]
        return {"compared": True, "agrees": not mine, "findings": mine, "problems": problems}

    def disagreements(self, day: str) -> dict[str, int]:
        """Per operator, how many reconciliation findings its statement of ``day`` carries (only those > 0)."""
        out: dict[str, int] = {}
        if self.findings is None:
            return out
        findings = self.findings()
        for operator_id, _, _ in self._owners.operators():
            st = self._store.get(operator_id, day)
            n = len(self.reconciliation(st, findings)["findings"]) if st else 0
            if n:
                out[operator_id] = n
        return out

    # Reading, scoped by role
    def get(self, principal: Principal, statement_id: str) -> Statement:
        operator_id, _, day = statement_id.removeprefix("st_").rpartition("_")
        st = self._store.get(operator_id, day) if operator_id and day else None
        if st is None:
            raise NotFound(f"statement {statement_id} does not exist", code="unknown_statement")
        may_read_statement(principal, st.district_code, st.operator_id)
        return st

    def list(self, principal: Principal, operator_id: str | None, first: str, last: str) -> list[Statement]:
        operator_id = operator_id or principal.operator_id
        if not operator_id:
            raise InvalidInput("name the operator: operator=<id>", code="operator_required")
        try:
            d0, d1 = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise InvalidInput("from and to are dates, YYYY-MM-DD", code="bad_query") from None
        if d1 < d0 or (d1 - d0).days > 366:
            raise InvalidInput("from..to must be an ordered range of at most a year", code="bad_query")
        home = next((o for o in self._owners.operators() if o[0] == operator_id), None)
        if home is None:
            raise NotFound(f"operator {operator_id} does not exist", code="unknown_operator")
        may_read_statement(principal, home[1], operator_id)
        return self._store.list(operator_id, first, last)

    # The proof
    def check(self, statement: Statement) -> list[str]:
        """Problems found comparing a statement with the ledger; empty: it agrees to the fen.

        1. its figures explain its own ledger movements (``model.identity_problems``);
        2. the ledger's lines of each operator account, read independently of the posting documents and
           restricted to the covered postings, sum to the movement the statement states."""
        problems = model.identity_problems(statement)
        covered = self._store.covered(statement)
        days = [statement.day, *statement.late_days]
        start = min(model.day_window(date.fromisoformat(d))[0] for d in days)
        end = model.day_window(date.fromisoformat(statement.day))[1]
        for account in (Account.operator_revenue(statement.operator_id), Account.operator_discounts(statement.operator_id)):
            lines = self._ledger.lines(account, start, end)
            total = sum(line.amount_fen for line in lines if line.posting_id in covered)
            if total != statement.ledger.get(account, 0):
                problems.append(f"{statement.statement_id}: ledger lines of {account} sum to {total}, statement says {statement.ledger.get(account, 0)}")
        return problems


class PlatformFeeService:
    """The half-yearly service fee of operators of government-owned lots, from issued statements (S10).

    Posted once per operator and half year (the posting id ``fee:<operator>:<half>`` is stored once), to
    ``operator_fee_receivable:<op>`` / ``platform_fee``: the platform's own books, apart from parking money."""

    def __init__(self, statements: SettlementService, store: StatementStore, ledger: PostingReader, owners: Owners,
                 rates: list[FeeRate], clock: Clock) -> None:
        self._statements, self._store, self._ledger, self._owners = statements, store, ledger, owners
        self._rates, self._clock = rates, clock

    def bill_half(self, half: str) -> dict:
        first, after = model.half_of(half)
        if after > self._clock.now().astimezone(SHANGHAI).date():
            raise InvalidInput(f"{half} is not over yet", code="half_not_over")
        summary = {"half": half, "billed": 0, "already_billed": 0, "not_government": 0, "missing_days": {}}
        days = [(first + timedelta(days=i)).isoformat() for i in range((after - first).days)]
        for operator_id, district, ownership in self._owners.operators():
            if ownership != "government":
                summary["not_government"] += 1
                continue
            if self._store.get_fee(operator_id, half) is not None:
                summary["already_billed"] += 1
                continue
            statements = {st.day: st for st in self._store.list(operator_id, days[0], days[-1])}
            missing = [d for d in days if d not in statements]
            if missing:  # billing on a partial half would bill the rest never
                summary["missing_days"][operator_id] = len(missing)
                continue
            revenue = {d: sum(lf.net_revenue_fen for lf in st.lots.values()) for d, st in statements.items()}
            amount, applied = model.fee(revenue, self._rates)
            fee = FeeStatement(
                fee_id=f"fee_{operator_id}_{half}", operator_id=operator_id, district_code=district, half=half,
                revenue_fen=sum(revenue.values()), fee_fen=amount, rates=applied, days_settled=len(statements),
                posting_id=f"fee:{operator_id}:{half}", issued_at=self._clock.now(),
            )
            if amount > 0:  # the posting first: a crash before the statement leaves a posting the retry finds
                self._ledger.post(Posting.platform_fee(fee.posting_id, operator_id, amount, self._clock.now(),
                                                       refs={"half": half, "fee_id": fee.fee_id}, memo=f"service fee {half}"))
            if self._store.issue_fee(fee):
                summary["billed"] += 1
            else:
                summary["already_billed"] += 1
        return summary

    def report(self, principal: Principal) -> dict:
        """The platform's fee books: its balance and each operator's fee owed (S10's separate account)."""
        if not principal.is_city:
            raise Forbidden("the platform's fee books are for city staff and auditors", code="role_forbidden")
        fees = self._store.list_fees()
        return {
            "platform_fee_balance_fen": -self._ledger.balance(Account.platform_fee()),
            "operators": {
                f.operator_id: self._ledger.balance(Account.operator_fee_receivable(f.operator_id)) for f in fees
            },
            "statements": [f.model_dump(mode="json") for f in fees],
            "as_of": iso(self._clock.now()),
        }

    def get(self, principal: Principal, operator_id: str, half: str) -> FeeStatement:
        fee = self._store.get_fee(operator_id, half)
        if fee is None:
            raise NotFound(f"no fee statement for {operator_id} {half}", code="unknown_fee_statement")
        may_read_statement(principal, fee.district_code, fee.operator_id)
        return fee
