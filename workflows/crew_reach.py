"""Whether a dispatch reaches an agency's crew by chat, and what is said when it cannot: operators are told to
phone the agency (its `phone` from the deployment file), the citizen that the operator is phoning the crew."""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.messages import Outbound, Priority
from workflows.addresses import desk_address
from workflows.cards import CaseView, agency_name
from workflows.desk_replies import Follower, tell


def reachable(config: Deployment, code: str, live: frozenset[str] | None) -> bool:
    """A crew group on Telegram, or a member on WhatsApp (tasks go 1:1), on a channel that works now.
    `live` None: the caller does not know which channels work, so the deployment file alone decides."""
    agency = config.agency(code)
    if agency is None:
        return False
    telegram, whatsapp = (live is None or channel in live for channel in ("telegram", "whatsapp"))
    return ((telegram and agency.telegram_chat_id is not None)
            or (whatsapp and any(m.whatsapp for m in agency.members)))


def unreached(config: Deployment, codes: list[str], live: frozenset[str] | None) -> list[str]:
    return [code for code in codes if not reachable(config, code, live)]


def phone_list(config: Deployment, codes: list[str], lang: str) -> str:
    """"Damkar: 0328-000-101 · Polres: (no phone in the deployment file)"."""
    def one(code: str) -> str:
        agency = config.agency(code)
        phone = agency.phone if agency is not None and agency.phone else t(lang, "channels.no_phone")
        return t(lang, "channels.agency_phone", agency=agency_name(config, code, lang), phone=phone)
    return " · ".join(one(code) for code in codes)


def phone_alert(view: CaseView, codes: list[str], config: Deployment) -> Outbound:
    """The case's operators' group: these agencies did not get the task by chat, phone them now."""
    lang = config.region.default_language
    text = t(lang, "channels.phone_alert", ticket=view.ticket, agencies=phone_list(config, codes, lang))
    return Outbound(to=desk_address(config, view.desk), text=text, case_id=view.id,
                    priority=Priority.URGENT if view.urgent else Priority.NORMAL)


def verified_notices(followers: tuple[Follower, ...], sent: list[str], missed: list[str], config: Deployment,
                     view: CaseView) -> list[Outbound]:
    """What reporters hear on verification: forwarded to the crews reached by chat, and the truth for the rest."""
    def names(codes: list[str]) -> str:
        return ", ".join(agency_name(config, c, view.language) for c in codes)
    reached = [c for c in sent if c not in missed]
    if not missed:
        return tell(followers, "notice.verified", config, urgent=view.urgent, agencies=names(reached))
    if not reached:
        return tell(followers, "channels.verified_by_phone", config, urgent=view.urgent, agencies=names(missed))
    return tell(followers, "channels.verified_partly_by_phone", config, urgent=view.urgent,
                agencies=names(reached), phoned=names(missed))


def dispatched_answer(answer: str, missed: list[str], config: Deployment, lang: str) -> str:
    """The operator's answer to the dispatch, with whom to phone."""
    if not missed:
        return answer
    return f"{answer}\n{t(lang, 'channels.desk_phone', agencies=phone_list(config, missed, lang))}"
