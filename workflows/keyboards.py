"""The buttons under the report card and the task cards, built through the action table (workflows/actions.py)."""
from __future__ import annotations

from core.config import OVER_AN_HOUR, Deployment
from core.i18n import t
from core.messages import Choice
from workflows import actions as A
from workflows.cards import CaseView, TaskView, agency_name

BUSY_TASKS = ("done", "refused")  # tasks that no longer hold their agency
CASE_MENUS = ("", "reject", "pick")
TASK_MENUS = ("", "eta", "refuse", "support")
MAX_DUPLICATES = 8


def _free_agencies(view: CaseView, config: Deployment) -> list[str]:
    """Agencies with a crew group that hold no open task of this case."""
    busy = {x.agency for x in view.tasks if x.state not in BUSY_TASKS}
    return [a.code for a in config.agencies if a.code not in busy and a.telegram_chat_id is not None]


def _labelled(action: A.Action, target: int, lang: str) -> Choice:
    return action.choice(target, t(lang, action.label))


def report_buttons(view: CaseView, config: Deployment, menu: str = "") -> tuple[Choice, ...]:
    """The operator buttons for the case as it stands, or a sub-menu (reasons, agencies)."""
    lang, case = config.region.default_language, view.id
    back = _labelled(A.CASE_BACK, case, lang)
    if menu == "reject":
        return (*(A.CASE_REJECT_WHY.choice(case, t(lang, f"reject.{r}"), r) for r in A.REJECT_REASONS), back)
    if menu == "pick":
        return (*(A.CASE_SEND_TO.choice(case, agency_name(config, code, lang), code)
                  for code in _free_agencies(view, config)), back)
    if view.state == "submitted":
        merge = tuple(A.CASE_SAME_AS.choice(case, t(lang, A.CASE_SAME_AS.label, ticket=other.ticket), str(other.id))
                      for other in view.similar[:2])
        return (*merge, *(_labelled(a, case, lang) for a in (A.CASE_VERIFY, A.CASE_PICK_AGENCY, A.CASE_REJECT,
                                                             A.CASE_DUPLICATE, A.CASE_CALL)))
    if view.state in ("verified", "dispatched", "accepted", "on_scene"):
        return (_labelled(A.CASE_PICK_AGENCY, case, lang), _labelled(A.CASE_CALL, case, lang))
    if view.state == "resolved":
        return (_labelled(A.CASE_CLOSE, case, lang),)
    return ()


def duplicate_buttons(view: CaseView, candidates: list[tuple[int, str, str]], config: Deployment) -> tuple[Choice, ...]:
    """One button per open case the report could duplicate: (case id, ticket, type code)."""
    lang = config.region.default_language
    rows = [A.CASE_SAME_AS.choice(view.id, f"{ticket} {_type_label(config, code, lang)}", str(cid))
            for cid, ticket, code in candidates if cid != view.id][:MAX_DUPLICATES]
    return (*rows, _labelled(A.CASE_BACK, view.id, lang))


def _type_label(config: Deployment, code: str, lang: str) -> str:
    kind = config.incident_type(code)
    return kind.name.get(lang) if kind else code


TASK_BUTTONS = {  # the buttons of a task card in each task state
    "dispatched": (A.TASK_ACCEPT, A.TASK_REFUSE),
    "accepted": (A.TASK_ARRIVED, A.TASK_SUPPORT, A.TASK_DONE),
    "on_scene": (A.TASK_SUPPORT, A.TASK_DONE),
    "finishing": (A.TASK_SEND, A.TASK_SUPPORT),
}


def eta_label(lang: str, minutes: int) -> str:
    """"15 menit"; a choice above an hour reads "> 1 jam" (the islands are hours away by boat)."""
    return t(lang, "deploy.eta_over_hour_button") if minutes > OVER_AN_HOUR else t(lang, A.TASK_ETA.label,
                                                                                    minutes=minutes)


def task_buttons(view: CaseView, task: TaskView, config: Deployment, menu: str = "") -> tuple[Choice, ...]:
    """A task's buttons for its state, or a sub-menu (ETA minutes, refusal reasons, supporting agencies)."""
    lang, task_id = config.region.default_language, task.id
    back = _labelled(A.TASK_BACK, task_id, lang)
    if menu == "eta":
        return (*(A.TASK_ETA.choice(task_id, eta_label(lang, m), str(m)) for m in config.cases.eta_choices), back)
    if menu == "refuse":
        return (*(A.TASK_REFUSE_WHY.choice(task_id, t(lang, f"refuse.{r}"), r) for r in A.REFUSE_REASONS), back)
    if menu == "support":
        return (*(A.TASK_SUPPORT_FROM.choice(task_id, agency_name(config, code, lang), code)
                  for code in _free_agencies(view, config)), back)
    return tuple(_labelled(a, task_id, lang) for a in TASK_BUTTONS.get(task.state, ()))
