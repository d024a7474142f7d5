"""Every button and command of the desk in one table: its data, its label, and who may use it.

The card renderers build button data through this table and the desk dispatches through it, so a button
cannot be offered without an entry, nor an entry exist without a right. Button data reads
`case:verify:12`, `task:eta:7:10` (scope, action, case or task id, argument); the codes of cards posted
before the table (`op:verify:12`, `tk:eta:7:10`) are still accepted, as those cards stay in the groups.
Which function handles each entry is registered by the desk (workflows/operator_desk.py, crew_tasks.py
and bots/services/desk.py) and checked there against this table when the module is imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.button_data import MAX_BYTES, MAX_ID, number
from core.config import Deployment
from core.messages import Choice, Inbound, Kind

REJECT_REASONS = ("hoax", "not_emergency", "outside_region", "other")
REFUSE_REASONS = ("busy", "outside_area", "not_ours")


class Right(StrEnum):
    """Who may use an action."""

    OPERATOR = "operator"    # the command centre (or a signed-in dashboard account that may act)
    CREW = "crew"            # a member of the agency the task was sent to
    STAFF = "staff"          # anyone on a duty roster: operators and crew members
    OVERSIGHT = "oversight"  # operators and leadership


class Arg(StrEnum):
    """What a button carries after its case or task id."""

    NONE = ""
    AGENCY = "agency"
    REJECT_REASON = "reject_reason"
    REFUSE_REASON = "refuse_reason"
    CASE = "case"
    MINUTES = "minutes"
    DRAFT = "draft"        # an unfinished report's start time (whole seconds): which draft of the reporter
    TEXT = "text"          # free text typed on the dashboard (a note), bounded by the decision
    STARS = "stars"        # "" or 1–5: the rating a caller gave on the phone
    ETA_CREW = "eta_crew"  # `minutes:crew name`: a crew's acceptance heard by radio


@dataclass(frozen=True)
class Action:
    """One button (`scope:name`, pressed on a case's or a task's card) or one chat command (`word`)."""

    code: str
    right: Right
    label: str = ""  # the catalog key of the button's label; "" where each option shows its argument
    old: str = ""    # the code on cards posted before this table, still accepted
    arg: Arg = Arg.NONE

    @property
    def is_command(self) -> bool:
        return ":" not in self.code

    @property
    def scope(self) -> str:
        """"case" or "task" for a button, "command" for a command."""
        return "command" if self.is_command else self.code.split(":")[0]

    def data(self, target: int, arg: str = "") -> str:
        """The button data for a case or task id and an argument."""
        return f"{self.code}:{target}" + (f":{arg}" if arg else "")

    def choice(self, target: int, label: str, arg: str = "") -> Choice:
        return Choice(self.data(target, arg), label)


@dataclass(frozen=True)
class Pressed:
    """An action as a sender asked for it: the case or task id (0 for a command) and the argument."""

    action: Action
    target: int = 0
    arg: str = ""


def _case(name: str, label: str, old: str, arg: Arg = Arg.NONE) -> Action:
    return Action(f"case:{name}", Right.OPERATOR, label, f"op:{old}", arg)


def _task(name: str, label: str, old: str, arg: Arg = Arg.NONE) -> Action:
    return Action(f"task:{name}", Right.CREW, label, f"tk:{old}", arg)


# --- the report card (operators) ---------------------------------------------------------------------
CASE_VERIFY = _case("verify", "button.op_verify", "verify")
CASE_PICK_AGENCY = _case("pick_agency", "button.op_pick", "pick")
CASE_SEND_TO = _case("send_to", "", "to", Arg.AGENCY)
CASE_REJECT = _case("reject", "button.op_reject", "reject")
CASE_REJECT_WHY = _case("reject_why", "", "rr", Arg.REJECT_REASON)
CASE_DUPLICATE = _case("duplicate", "button.op_duplicate", "duplicate")
CASE_SAME_AS = _case("same_as", "button.op_merge", "dupto", Arg.CASE)
CASE_CALL = _case("call", "button.op_call", "call")
CASE_BACK = _case("back", "button.back", "back")
CASE_CLOSE = _case("close", "button.op_close", "close")
# --- the case page only (typed there, never a button in a group) ------------------------------------
CASE_NOTE = _case("note", "", "note", Arg.TEXT)                    # a note into the timeline
CASE_CALLED_BACK = _case("called_back", "", "called", Arg.STARS)   # the caller was called back (+ their rating)
# --- a line of a list of waiting cards (a surge): the whole card in the presser's private chat ---------
CASE_OPEN = _case("open", "", "open")

# --- the task cards (crews) --------------------------------------------------------------------------
TASK_ACCEPT = _task("accept", "button.tk_acc", "acc")
TASK_ETA = _task("eta", "button.eta", "eta", Arg.MINUTES)
TASK_REFUSE = _task("refuse", "button.tk_ref", "ref")
TASK_REFUSE_WHY = _task("refuse_why", "", "rr", Arg.REFUSE_REASON)
TASK_ARRIVED = _task("arrived", "button.tk_arr", "arr")
TASK_SUPPORT = _task("support", "button.tk_sup", "sup")
TASK_SUPPORT_FROM = _task("support_from", "", "supto", Arg.AGENCY)
TASK_DONE = _task("done", "button.tk_done", "done")
TASK_SEND = _task("send", "button.tk_send", "send")
TASK_BACK = _task("back", "button.back", "back")
TASK_OPEN = _task("open", "", "open")  # a line of a crew group's list of waiting tasks
# --- an operator enters a crew's step heard by radio (case page) -------------------------------------
TASK_FOR_ACCEPT = Action("task:for_accept", Right.OPERATOR, "", "tk:facc", Arg.ETA_CREW)
TASK_FOR_ARRIVE = Action("task:for_arrive", Right.OPERATOR, "", "tk:farr")
TASK_FOR_DONE = Action("task:for_done", Right.OPERATOR, "", "tk:fdone", Arg.TEXT)

# --- an unfinished urgent report (workflows/abandoned_draft.py): the target is the reporter's id -----------
DRAFT_MAKE = Action("draft:make", Right.OPERATOR, "draft.button_make", "dr:make", Arg.DRAFT)

# --- chat commands -----------------------------------------------------------------------------------
CMD_KASUS = Action("kasus", Right.OPERATOR)              # /kasus [ticket]: open cases, or one case's timeline
CMD_TUTUP = Action("tutup", Right.OPERATOR)              # /tutup TICKET note: close
CMD_BLOKIR = Action("blokir", Right.OPERATOR)            # /blokir TICKET: block the reporter
CMD_BUKA_BLOKIR = Action("buka_blokir", Right.OPERATOR)  # /buka_blokir TICKET
CMD_CATATAN = Action("catatan", Right.OPERATOR)          # /catatan TICKET text: a note, as on the case page
CMD_MASUK = Action("masuk", Right.STAFF)                 # check in for a shift
CMD_KELUAR = Action("keluar", Right.STAFF)               # check out
CMD_PIKET = Action("piket", Right.STAFF)                 # who is on duty
CMD_STATISTIK = Action("statistik", Right.OVERSIGHT)     # /statistik [hari|minggu|bulan]
CMD_LAPOR = Action("lapor", Right.OPERATOR)              # /lapor: enter a call in a private chat

TABLE: tuple[Action, ...] = (
    CASE_VERIFY, CASE_PICK_AGENCY, CASE_SEND_TO, CASE_REJECT, CASE_REJECT_WHY, CASE_DUPLICATE, CASE_SAME_AS,
    CASE_CALL, CASE_BACK, CASE_CLOSE, CASE_NOTE, CASE_CALLED_BACK, CASE_OPEN,
    TASK_ACCEPT, TASK_ETA, TASK_REFUSE, TASK_REFUSE_WHY, TASK_ARRIVED, TASK_SUPPORT, TASK_SUPPORT_FROM, TASK_DONE,
    TASK_SEND, TASK_BACK, TASK_OPEN, TASK_FOR_ACCEPT, TASK_FOR_ARRIVE, TASK_FOR_DONE,
    DRAFT_MAKE,
    CMD_CATATAN,
    CMD_KASUS, CMD_TUTUP, CMD_BLOKIR, CMD_BUKA_BLOKIR, CMD_MASUK, CMD_KELUAR, CMD_PIKET, CMD_STATISTIK, CMD_LAPOR,
)
BUTTONS: dict[str, Action] = {a.code: a for a in TABLE if not a.is_command}
OLD_BUTTONS: dict[str, Action] = {a.old: a for a in TABLE if a.old}
COMMANDS: dict[str, Action] = {a.code: a for a in TABLE if a.is_command}
# Buttons that decide nothing about the case or task: they open its card in a private chat (bots/services/open_card)
OPENERS = frozenset({CASE_OPEN, TASK_OPEN})
STAFF_COMMANDS = frozenset(a.code for a in COMMANDS.values() if a.right in (Right.STAFF, Right.OVERSIGHT))
SCOPES = frozenset(code.split(":")[0] for code in [*BUTTONS, *OLD_BUTTONS])  # "case", "task", "op", "tk"
assert len(BUTTONS) + len(COMMANDS) == len(TABLE) and len(OLD_BUTTONS) == len(BUTTONS), "a code used twice"
assert all(len(a.data(MAX_ID, "x" * 32)) <= MAX_BYTES for a in BUTTONS.values()), "button data too long"


def action_of(data: str) -> Action | None:
    """The table entry of button data (`case:verify:12`, or the older `op:verify:12`)."""
    head = ":".join(data.split(":")[:2])
    return BUTTONS.get(head) or OLD_BUTTONS.get(head)


def parse(event: Inbound) -> Pressed | None:
    """A button press or a desk command as a table entry, its target and argument; None for anything else."""
    if event.kind == Kind.CHOICE:
        parts = event.choice.split(":")
        action = action_of(event.choice)
        target = number(parts[2], 1, MAX_ID) if len(parts) >= 3 else None  # an id the database can hold
        if action is not None and target is not None:
            return Pressed(action, target, ":".join(parts[3:]))
        return None
    if event.kind == Kind.COMMAND and event.command in COMMANDS:
        return Pressed(COMMANDS[event.command], 0, event.args)
    return None


def is_desk_press(event: Inbound) -> bool:
    """A press of a case or task button (in a private chat: a crew member on WhatsApp, or a stray card)."""
    return event.kind == Kind.CHOICE and event.choice.split(":")[0] in SCOPES


def refusal(action: Action, event: Inbound, config: Deployment, task_agency: str | None = None) -> str | None:
    """The catalog key explaining why this sender may not use this action, or None when they may.
    `task_agency` is the agency of the pressed task (None: no such task)."""
    channel, who = event.sender.channel, event.sender.id
    if channel == "dashboard":  # written only by the signed-in web layer, which checked the account may act
        return None if action.right == Right.OPERATOR else "desk.not_operator"
    if action.right == Right.OPERATOR:
        return None if config.is_operator(channel, who) else "desk.not_operator"
    if action.right == Right.CREW:
        if task_agency is None:
            return "desk.unknown_case"
        return None if config.is_agency_member(task_agency, channel, who) else "crew.not_member"
    if action.right == Right.OVERSIGHT:
        return None if config.is_operator(channel, who) or config.is_leader(channel, who) else "figures.not_allowed"
    return None  # Right.STAFF: the duty roster finds the sender's shift or refuses (bots/services/staff.py)
