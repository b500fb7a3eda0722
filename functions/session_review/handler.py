"""Workflow task (unmatched-exit-review): after the window, an exit still without entry goes to review."""

from __future__ import annotations

from shared.bootstrap import services


def handler(event: dict, context) -> dict:
    session = services().sessions.review(event["session_id"])
    outcome = "flagged" if session.status.value == "needs_review" else "reconciled"
    return {"session_id": session.session_id, "status": session.status.value, "outcome": outcome}
