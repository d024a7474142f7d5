"""Web-chat identities are issued and signed by the server: a chosen, unsigned or forged cookie is refused and
stores nothing; whether a chat is a group is the channel adapter's answer, never read from the id."""
from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from sqlalchemy import func, select

from bots.app import create_app
from bots.telegram.client import TelegramChannel
from bots.web.chat import COOKIE, PURPOSE, REFUSED
from bots.web.chat_channel import WebChatChannel
from core import outbox, signing
from core.clock import FakeClock
from core.db import utcnow
from core.messages import Address, Outbound
from core.models import Case, InboxItem, Media, OutboxItem, Reporter
from core.settings import load_settings
from tests.e2e_support import asked
from tests.harness import SECRET_KEY, free_port, serve_app
from tests.images import phone_jpeg
from tests.test_web_chat import Citizen
from tests.test_web_pages import web


def _cookie(response: httpx.Response) -> str:
    return response.cookies[COOKIE]


async def _refused(client: httpx.AsyncClient, cookie: str) -> None:
    """Every endpoint of the chat API refuses the cookie with the same clear reason."""
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    answers = [
        await client.post("/chat/api/send", json={"id": "m1", "kind": "text", "text": "tolong"}, headers=headers),
        await client.post("/chat/api/photo?id=p1", content=phone_jpeg(), headers=headers),
        await client.get("/chat/api/messages?after=0", headers=headers),
    ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(403, REFUSED)] * 3, cookie


async def test_a_chat_id_the_server_did_not_sign_is_refused_and_stores_nothing(db_url, config):
    async with web(db_url, config) as (client, deps):
        async with httpx.AsyncClient(base_url=client.base_url) as other_browser:
            issued = _cookie(await other_browser.get("/chat"))
        value = signing.unsign(deps.secret_key, PURPOSE, issued)
        assert value is not None and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
        chosen = "citizen-chosen-id-0123456789"  # what the old server accepted: any 20-64 such characters
        forged = [
            chosen,
            value,  # a real id without its signature
            signing.sign(b"another-deployments-secret-key-00", PURPOSE, value),
            signing.sign(b"another-deployments-secret-key-00", PURPOSE, chosen),
            signing.sign(deps.secret_key, "another-purpose", chosen),  # signed here, but for another use
            f"{chosen}.{issued.rpartition('.')[2]}",  # a real signature moved onto a chosen id
            issued[:-1] + ("A" if issued[-1] != "A" else "B"),
            "",
        ]
        for cookie in forged:
            await _refused(client, cookie)
        async with deps.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(InboxItem)) == 0
            assert await s.scalar(select(func.count()).select_from(Media)) == 0

        page = await client.get("/chat", headers={"Cookie": f"{COOKIE}={chosen}"})  # the page starts a new chat
        fresh = _cookie(page)
        assert page.status_code == 200 and fresh not in forged and fresh != issued
        assert signing.unsign(deps.secret_key, PURPOSE, fresh) not in (None, chosen)
        kept = await client.get("/chat", headers={"Cookie": f"{COOKIE}={issued}"})
        assert _cookie(kept) == issued  # a valid chat keeps its id
        header = kept.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header and "secure" not in header


async def test_a_server_issued_chat_reports_to_a_ticket_under_its_signed_id(db_url, config):
    async with web(db_url, config) as (client, deps):
        me = Citizen(client)
        await me.open()
        chat = signing.unsign(deps.secret_key, PURPOSE, client.cookies[COOKIE])
        await me.send(kind="text", text="tolong ada kebakaran")
        await me.wait_for(choice="guess:yes")
        await me.send(kind="choice", choice="guess:yes")
        await me.wait_for(asked("report.ask_location"))
        await me.send(kind="location", lat=-7.0167, lon=113.8667)
        await me.wait_for(asked("report.ask_photo_optional"))
        assert (await me.photo(phone_jpeg())).status_code == 200
        await me.wait_for(asked("talk.ask_phone"), choice="skip")
        await me.send(kind="choice", choice="skip")
        await me.wait_for(choice="confirm:send")
        await me.send(kind="choice", choice="confirm:send")
        done = await me.wait_for(asked("report.submitted_urgent"))
        async with deps.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
            reporter = await s.get(Reporter, case.reporter_id)
        assert case.ticket in done["text"] and (reporter.channel, reporter.external_id) == ("web", chat)


async def test_a_web_chat_whose_id_starts_with_a_dash_gets_its_replies(db_url, config):
    """Telegram's group ids start with `-`; a web chat's may too (the server issued such ids before), and it is
    still one citizen: its replies stay in its own lane, readable by its page."""
    async with web(db_url, config) as (client, deps):
        chat = "-" + "a1" * 16
        client.cookies.set(COOKIE, signing.sign(deps.secret_key, PURPOSE, chat))
        me = Citizen(client)
        assert (await me.send(kind="text", text="tolong ada kebakaran")).status_code == 200
        await me.wait_for(choice="guess:yes")
        async with deps.sessions() as s:
            rows = (await s.execute(select(OutboxItem.chat_id, OutboxItem.group_chat)
                                    .where(OutboxItem.channel == "web"))).all()
        assert rows and set(rows) == {(chat, None)}


def test_only_the_channel_adapter_says_what_is_a_group():
    telegram = TelegramChannel("123:abc", "http://127.0.0.1:9")
    assert telegram.is_group("-1001000000001") and telegram.is_group("-42") and not telegram.is_group("5001")
    assert not WebChatChannel().is_group("-aaaa") and not WebChatChannel().is_group("abcd")


async def test_outbox_lanes_follow_the_adapters_answer_not_the_id(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        web_chat = await outbox.enqueue(s, Outbound(to=Address("web", "-abc"), text="hi"), now)
        person = await outbox.enqueue(s, Outbound(to=Address("telegram", "5001"), text="hi"), now, group=False)
        group = await outbox.enqueue(s, Outbound(to=Address("telegram", "-100"), text="card"), now, group=True)
    assert (web_chat.chat_id, web_chat.group_chat) == ("-abc", None)
    assert (person.chat_id, person.group_chat) == ("5001", None)
    assert (group.chat_id, group.group_chat) == ("-100#p10", "-100")


@asynccontextmanager
async def _https_app(tmp_path, config):
    port = free_port()
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}", port=port,
                             public_base_url="https://siaga.example.go.id", siaga_secret_key=SECRET_KEY)
    app = create_app(settings, config, clock=FakeClock())
    async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client


async def test_the_chat_cookie_is_secure_behind_https(tmp_path, config):
    from tests.conftest import fresh_database_url
    await fresh_database_url("sqlite", tmp_path)
    async with _https_app(tmp_path, config) as client:
        header = (await client.get("/chat")).headers["set-cookie"].lower()
    assert "secure" in header and "httponly" in header and "samesite=lax" in header
