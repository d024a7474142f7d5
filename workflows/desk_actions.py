"""What operators and crews ask for: button data and commands parsed into actions, and who may do them."""
from __future__ import annotations

from dataclasses import dataclass

from core.button_data import MAX_ID, number
from core.config import Deployment
from core.messages import Inbound, Kind

OPERATOR_COMMANDS = {"kasus", "tutup", "blokir", "buka_blokir"}
STAFF_COMMANDS = {"masuk", "keluar", "piket", "statistik"}  # duty roster and figures, for every role
REJECT_REASONS = ("hoax", "not_emergency", "outside_region", "other")
REFUSE_REASONS = ("busy", "outside_area", "not_ours")


@dataclass(frozen=True)
class Action:
    """`scope` is "op" (operators), "tk" (a crew task) or "staff" (roster, figures); `target` the case or task id."""

    scope: str
    name: str
    target: int = 0
    arg: str = ""


def parse(event: Inbound) -> Action | None:
    """Read `op:verify:12`, `tk:eta:7:10` or an operator command; None for anything else."""
    if event.kind == Kind.CHOICE:
        parts = event.choice.split(":")
        target = number(parts[2], 1, MAX_ID) if len(parts) >= 3 else None  # an id the database can hold
        if parts[0] in ("op", "tk") and target is not None:
            return Action(parts[0], parts[1], target, ":".join(parts[3:]))
        return None
    if event.kind == Kind.COMMAND and event.command in OPERATOR_COMMANDS:
        return Action("op", event.command, 0, event.args)
    if event.kind == Kind.COMMAND and event.command in STAFF_COMMANDS:
        return Action("staff", event.command, 0, event.args)
    return None


def refusal(action: Action, event: Inbound, config: Deployment, task_agency: str | None) -> str | None:
    """The catalog key explaining why this sender may not do this, or None when they may."""
    channel, who = event.sender.channel, event.sender.id
    if channel == "dashboard":  # written only by the signed-in web layer, which checked the account may act
        return None if action.scope == "op" else "desk.not_operator"
    if action.scope == "op":
        return None if config.is_operator(channel, who) else "desk.not_operator"
    if task_agency is None:
        return "desk.unknown_case"
    return None if config.is_agency_member(task_agency, channel, who) else "crew.not_member"
