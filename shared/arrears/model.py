"""An arrears case and its escalation ladder. Pure: no I/O.

The ladder is configured per district: reminders through the official channel only (the notice names the
platform and the session and carries no payment link: citizens are targeted by fake "parking arrears"
SMS), then pay-later suspended, then the plate flagged at every networked exit, then hand-over to the
collection queues of the district and the operator. Repayment closes a case at any step; a dispute pauses
it; a write-off closes it with the reason and the approver.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["remind", "suspend_pay_later", "flag_exits", "hand_over"]
PAUSED_RECHECK_S = 30 * 86400  # a paused case waits for the dispute's outcome (which wakes it at once)


class Step(BaseModel):
    day: int = Field(ge=0, le=365, description="Days after the case opened.")
    action: Action


DEFAULT_LADDER: tuple[Step, ...] = (
    Step(day=1, action="remind"),
    Step(day=3, action="remind"),
    Step(day=7, action="remind"),
    Step(day=7, action="suspend_pay_later"),
    Step(day=15, action="flag_exits"),
    Step(day=30, action="hand_over"),
)
# County-level cities run a longer ladder before flagging exits (their own collection teams call first).
LADDERS: dict[str, tuple[Step, ...]] = {
    "320281": (*DEFAULT_LADDER[:4], Step(day=21, action="flag_exits"), Step(day=45, action="hand_over")),
    "320282": (*DEFAULT_LADDER[:4], Step(day=21, action="flag_exits"), Step(day=45, action="hand_over")),
}

# Incentives on recovered arrears (S11): a share of what was recovered after hand-over, split between the
# collecting district and the city platform. Basis points keep it exact in integer fen.
INCENTIVE_RATE_BP = 1000  # 10 % of the recovered amount
DISTRICT_SHARE_BP = 6000  # of the incentive: 60 % to the collecting district, the rest to the city platform


def ladder_for(district_code: str) -> tuple[Step, ...]:
    return LADDERS.get(district_code, DEFAULT_LADDER)


class CaseState(str, Enum):
    OPEN = "open"
    PAUSED = "paused"  # a dispute is running
    CLOSED = "closed"


class HistoryEntry(BaseModel):
    at: datetime
    kind: str  # opened, remind, suspend_pay_later, flag_exits, hand_over, contact, paused, resumed, repaid, written_off
    note: str = ""
    by: str = "platform"


class ArrearsCase(BaseModel):
    case_id: str
    bill_id: str
    session_id: str
    plate: str
    lot_id: str
    operator_id: str
    district_code: str
    amount_fen: int = Field(gt=0, description="What was due when the case opened.")
    opened_at: datetime
    state: CaseState = CaseState.OPEN
    steps_done: list[int] = Field(default_factory=list)
    suspended: bool = False
    flagged: bool = False
    handed_over: bool = False
    closed_reason: str | None = None
    closed_at: datetime | None = None
    recovered_fen: int = 0
    evidence: dict[str, str | None] = Field(default_factory=dict, description="Entry/exit times and evidence refs.")
    history: list[HistoryEntry] = Field(default_factory=list)
    token: str | None = Field(None, description="The workflow's waiting task token, to wake it on a change.")
    version: int = 1

    def bumped(self, **changes) -> ArrearsCase:
        return self.model_copy(update={**changes, "version": self.version + 1})

    @property
    def is_open(self) -> bool:
        return self.state is not CaseState.CLOSED


def case_id_for(bill_id: str) -> str:
    return "arr_" + bill_id.removeprefix("bill_")


def next_step(case: ArrearsCase, now: datetime) -> tuple[str, int | None, int]:
    """(state, step index, seconds to wait): closed, paused, handed_over, due (apply the step now) or
    waiting (until the next step is due)."""
    if case.state is CaseState.CLOSED:
        return "closed", None, 0
    if case.state is CaseState.PAUSED:
        return "paused", None, PAUSED_RECHECK_S
    ladder = ladder_for(case.district_code)
    pending = [i for i in range(len(ladder)) if i not in case.steps_done]
    if not pending:
        return "handed_over", None, 0
    i = pending[0]
    due_at = case.opened_at + timedelta(days=ladder[i].day)
    if now >= due_at:
        return "due", i, 0
    return "waiting", i, max(1, math.ceil((due_at - now).total_seconds()))


def incentive_split(recovered_fen: int) -> tuple[int, int]:
    """(to the collecting district, to the city platform) for an amount recovered after hand-over."""
    total = recovered_fen * INCENTIVE_RATE_BP // 10_000
    district = total * DISTRICT_SHARE_BP // 10_000
    return district, total - district


def reminder_text(case: ArrearsCase, lot_name: str) -> str:
    """The official notice: names the platform and the session; never a link (users are phished by fake
    arrears SMS): it sends them to the official service window."""
    plate = case.plate[:2] + "*" * (len(case.plate) - 3) + case.plate[-1]
    return (
        f"【无锡市智慧停车平台·通停通付】您的车辆{plate}于{lot_name}的停车费"
        f"{case.amount_fen // 100}.{case.amount_fen % 100:02d}元尚未支付（停车记录 {case.session_id}）。"
        "请在“无锡通停通付”官方服务窗口补缴。本通知不含任何付款链接，请勿点击短信中的链接付款。"
    )
