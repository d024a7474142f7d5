"""A citizen reports through the web chat over HTTP, up to the ticket; bad input gets a clear answer."""
from __future__ import annotations

import httpx
from sqlalchemy import select

from bots.services import dashboard_actions
from core.i18n import t
from core.models import Case, Reporter
from tests.conftest import fresh_database_url
from tests.e2e_support import asked
from tests.harness import eventually
from tests.images import phone_jpeg
from tests.test_web_pages import web


class Citizen:
    """The browser side of /chat: post what the citizen does, read what the bot said."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.seen, self.n = client, [], 0
        self.since_send = 0  # how many messages had been read when the last post went out

    async def open(self) -> None:
        assert (await self.client.get("/chat")).status_code == 200

    async def send(self, **body) -> httpx.Response:
        self.n, self.since_send = self.n + 1, len(self.seen)
        return await self.client.post("/chat/api/send", json={"id": f"m{self.n}", "lang": "id", **body})

    async def photo(self, data: bytes) -> httpx.Response:
        self.n += 1
        return await self.client.post(f"/chat/api/photo?id=p{self.n}&lang=id", content=data,
                                      headers={"Content-Type": "image/jpeg"})

    async def wait_for(self, fragment: str = "", choice: str = "", new: bool = False) -> dict:
        """A message with `fragment` (and `choice`); `new`: only one read after the last post."""
        async def found():
            after = self.seen[-1]["id"] if self.seen else 0
            self.seen += (await self.client.get(f"/chat/api/messages?after={after}")).json()["messages"]
            return next((m for m in self.seen[self.since_send if new else 0:] if fragment in m["text"]
                         and (not choice or any(c["data"] == choice for c in m["choices"]))), None)
        return await eventually(found, timeout=30)


async def test_a_citizen_reports_a_fire_through_the_web_chat(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        me = Citizen(client)
        assert (await me.send(kind="text", text="halo")).status_code == 403  # no chat cookie yet
        await me.open()
        await me.send(kind="text", text="tolong ada kebakaran")
        await me.wait_for(asked("report.greeting"))
        await me.wait_for("Kebakaran?", choice="guess:yes")  # the type read from the words, one tap away
        await me.send(kind="choice", choice="guess:yes")
        where = await me.wait_for(asked("report.ask_location"))  # urgent: where before the photo
        assert where["request_location"] is True
        nan = await client.post("/chat/api/send", content=b'{"id": "n1", "kind": "location", "lat": NaN, "lon": 1}')
        assert nan.status_code == 400
        await me.send(kind="location", lat=-7.0167, lon=113.8667)
        await me.wait_for(asked("report.ask_photo_optional"))
        assert (await me.photo(b"%PDF-1.4 not a photo")).status_code == 200
        await me.wait_for("bukan foto")
        assert (await me.photo(phone_jpeg())).status_code == 200
        await me.wait_for(asked("talk.ask_phone"), choice="skip")  # web reporters are asked for a number
        await me.send(kind="text", text="0812 3456 7890")
        summary = await me.wait_for("tolong ada kebakaran", choice="confirm:send")  # the first words kept
        assert t("id", "talk.summary_pin") in summary["text"]
        await me.send(kind="text", text="ya")
        done = await me.wait_for(asked("report.submitted_urgent"))
        async with deps.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
            reporter = await s.get(Reporter, case.reporter_id)
        assert case.ticket in done["text"] and case.photo_media_id is not None
        assert (reporter.channel, case.incident_type, case.state) == ("web", "fire", "submitted")
        assert reporter.phone == "+6281234567890" and case.kecamatan_code and case.description == "tolong ada kebakaran"
        await me.send(kind="text", text="/status")
        await me.wait_for(case.ticket + " ")

        await dashboard_actions.submit(deps, "op1", "Operator Satu", f"op:close:{case.id}")  # closed from the dashboard
        await me.wait_for("ditutup", choice=f"rate:{case.id}:5")
        await me.send(kind="choice", choice=f"rate:{case.id}:5")
        await me.wait_for("Terima kasih atas penilaian")
        async with deps.sessions() as s:
            assert (await s.get(Case, case.id)).rating == 5


async def test_bad_input_to_the_web_chat_changes_nothing(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        me = Citizen(client)
        await me.open()
        bad = await client.post("/chat/api/send", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"] == "malformed JSON"
        assert (await client.post("/chat/api/send", json={"kind": "text", "text": "no id"})).status_code == 400
        assert (await client.post("/chat/api/send", json={"id": "x1", "kind": "sql", "text": "1"})).status_code == 400
        huge = await client.post("/chat/api/send", content=b"x" * 20_000)
        assert huge.status_code == 413
        first = await me.send(kind="text", text="halo")
        again = await client.post("/chat/api/send",
                                  json={"id": f"m{me.n}", "lang": "id", "kind": "text", "text": "halo"})
        assert first.status_code == again.status_code == 200  # a retried post is acknowledged once
        await me.wait_for(choice="type:fire")
        await me.send(kind="choice", choice="type:fire")
        await me.send(kind="location", lat=-7.0167, lon=113.8667)
        await me.wait_for(asked("report.ask_photo_optional"))
        big = await me.photo(b"\xff" * int(config.limits.max_photo_mb * 1024 * 1024 + 10))
        assert big.status_code == 413
        await me.wait_for("terlalu besar")
        from core.models import InboxItem
        async with deps.sessions() as s:
            texts = [i.payload.get("text") for i in (await s.execute(select(InboxItem).where(
                InboxItem.channel == "web"))).scalars()]
        assert texts.count("halo") == 1


async def test_the_stage_holds_through_a_hint_and_moves_on_with_an_answer(tmp_path, config):
    """The page keeps the last buttons while `stage` stays: a hint leaves it, an answer that moves on changes it."""
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, _):
        me = Citizen(client)
        await me.open()

        async def stage() -> str:
            return (await client.get("/chat/api/messages?after=999999999")).json()["stage"]

        await me.send(kind="text", text="halo")
        await me.wait_for(choice="type:fire")
        asked = await stage()
        await me.send(kind="text", text="zzz qqq")  # no step understands it
        count = len(me.seen)
        await eventually(lambda: _more(me, client, count), timeout=30)
        assert await stage() == asked
        await me.send(kind="choice", choice="type:fire")
        await eventually(lambda: _moved(client, asked), timeout=30)


async def _more(me: Citizen, client: httpx.AsyncClient, count: int) -> bool:
    after = me.seen[-1]["id"] if me.seen else 0
    me.seen += (await client.get(f"/chat/api/messages?after={after}")).json()["messages"]
    return len(me.seen) > count


def _more_than(me: Citizen, client: httpx.AsyncClient, count: int):
    return lambda: _more(me, client, count)


async def _moved(client: httpx.AsyncClient, asked: str) -> bool:
    return (await client.get("/chat/api/messages?after=999999999")).json()["stage"] != asked


async def test_a_shared_location_keeps_the_browsers_accuracy_and_the_page_language_goes_with_every_post(
        tmp_path, config):
    from bots.web.chat_channel import WebChatChannel
    from core.models import InboxItem
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        me = Citizen(client)
        await me.open()
        for n, accuracy in enumerate((35.5, -1, 1e9, "12", True, None)):
            body = {"id": f"loc{n}", "lang": "en", "kind": "location", "lat": -7.0167, "lon": 113.8667}
            if accuracy is not None:
                body["accuracy"] = accuracy
            assert (await client.post("/chat/api/send", json=body)).status_code == 200
        async with deps.sessions() as s:
            rows = (await s.execute(select(InboxItem).where(InboxItem.channel == "web")
                                    .order_by(InboxItem.id))).scalars().all()
        kept = {row.external_id.split(":")[1]: row.payload.get("accuracy_m") for row in rows}
        assert kept == {"loc0": 35.5, "loc1": None, "loc2": None, "loc3": None, "loc4": None, "loc5": None}
        events = [WebChatChannel().parse(row.payload) for row in rows]
        assert [e.location.accuracy_m for e in events] == [35.5, None, None, None, None, None]
        assert {e.language_code for e in events} == {"en"}  # the page's language, for the flow to switch to


async def test_a_web_reporter_is_asked_for_a_number_with_a_field_and_skip(tmp_path, config):
    """The messages the page reads carry the number request and its label, beside the choices (Skip)."""
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, _):
        me = Citizen(client)
        await me.open()
        await me.send(kind="text", text="halo")
        await me.wait_for(choice="type:fire")
        await me.send(kind="choice", choice="type:fire")
        for _ in range(8):  # answer each step until the number is asked (its place in the report is the flow's)
            last = me.seen[-1]
            if last.get("request_contact"):
                break
            if last["request_location"]:
                await me.send(kind="location", lat=-7.0167, lon=113.8667, accuracy=20)
            elif any(c["data"] == "skip" for c in last["choices"]):
                await me.send(kind="choice", choice="skip")
            elif last["choices"]:
                await me.send(kind="choice", choice=last["choices"][0]["data"])
            else:
                await me.send(kind="text", text="Gudang kayu terbakar")
            await eventually(_more_than(me, client, len(me.seen)), timeout=30)
        asked = me.seen[-1]
        assert asked["request_contact"] is True and asked["contact_label"]
        assert [c["data"] for c in asked["choices"]] == ["skip"]
