"""A citizen reports through the web chat over HTTP, up to the ticket; bad input gets a clear answer."""
from __future__ import annotations

import httpx
from sqlalchemy import select

from bots.services import dashboard_actions
from core.models import Case, Reporter
from tests.conftest import fresh_database_url
from tests.harness import eventually
from tests.images import phone_jpeg
from tests.test_web_pages import web


class Citizen:
    """The browser side of /chat: post what the citizen does, read what the bot said."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.seen, self.n = client, [], 0

    async def open(self) -> None:
        assert (await self.client.get("/chat")).status_code == 200

    async def send(self, **body) -> httpx.Response:
        self.n += 1
        return await self.client.post("/chat/api/send", json={"id": f"m{self.n}", "lang": "id", **body})

    async def photo(self, data: bytes) -> httpx.Response:
        self.n += 1
        return await self.client.post(f"/chat/api/photo?id=p{self.n}&lang=id", content=data,
                                      headers={"Content-Type": "image/jpeg"})

    async def wait_for(self, fragment: str = "", choice: str = "") -> dict:
        async def found():
            after = self.seen[-1]["id"] if self.seen else 0
            self.seen += (await self.client.get(f"/chat/api/messages?after={after}")).json()["messages"]
            return next((m for m in self.seen if fragment in m["text"]
                         and (not choice or any(c["data"] == choice for c in m["choices"]))), None)
        return await eventually(found, timeout=30)


async def test_a_citizen_reports_a_fire_through_the_web_chat(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        me = Citizen(client)
        assert (await me.send(kind="text", text="halo")).status_code == 403  # no chat cookie yet
        await me.open()
        await me.send(kind="text", text="tolong ada kebakaran")
        await me.wait_for("Privasi")
        await me.wait_for(choice="type:fire")
        await me.send(kind="choice", choice="type:fire")
        await me.wait_for("Kirim foto kejadian")
        assert (await me.photo(b"%PDF-1.4 not a photo")).status_code == 200
        await me.wait_for("bukan foto")
        assert (await me.photo(phone_jpeg())).status_code == 200
        asked = await me.wait_for("Di mana lokasinya")
        assert asked["request_location"] is True
        nan = await client.post("/chat/api/send", content=b'{"id": "n1", "kind": "location", "lat": NaN, "lon": 1}')
        assert nan.status_code == 400
        await me.send(kind="location", lat=-7.0167, lon=113.8667)
        await me.wait_for("Ceritakan singkat")
        await me.send(kind="text", text="Gudang kayu terbakar")
        await me.wait_for(choice="confirm:send")
        await me.send(kind="choice", choice="confirm:send")
        done = await me.wait_for("Nomor tiket Anda")
        async with deps.sessions() as s:
            case = (await s.execute(select(Case))).scalar_one()
            reporter = await s.get(Reporter, case.reporter_id)
        assert case.ticket in done["text"] and case.photo_media_id is not None
        assert (reporter.channel, case.incident_type, case.state) == ("web", "fire", "submitted")
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
        await me.wait_for("Kirim foto kejadian")
        big = await me.photo(b"\xff" * int(config.limits.max_photo_mb * 1024 * 1024 + 10))
        assert big.status_code == 413
        await me.wait_for("terlalu besar")
        from core.models import InboxItem
        async with deps.sessions() as s:
            texts = [i.payload.get("text") for i in (await s.execute(select(InboxItem).where(
                InboxItem.channel == "web"))).scalars()]
        assert texts.count("halo") == 1
