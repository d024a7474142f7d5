"""The Telegram channel: python-telegram-bot's `Bot` performing rendered calls, errors mapped to retry/give-up."""
from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")  # opt in to PTB 23's timedelta retry_after; _seconds() takes both

import structlog
from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bots.telegram import parse as tg_parse
from bots.telegram.render import render, render_edit
from core.coordination import Limit
from core.i18n import t
from core.messages import Inbound, Outbound
from core.sending import AuthRevoked, MediaGone, RetryLater, ServerError, Undeliverable

log = structlog.get_logger()
COMMANDS = ("start", "status", "batal", "bahasa", "bantuan")


class _ServerAnswered(NetworkError):
    """The Bot API answered 5xx (PTB would call it a plain NetworkError, like a dropped connection)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"telegram {code}")
        self.code = code


class _Request(HTTPXRequest):
    """HTTPXRequest that tells a server's 5xx apart from a network failure, for the channel's health."""

    async def do_request(self, *args, **kwargs):
        code, payload = await super().do_request(*args, **kwargs)
        if code >= 500:
            raise _ServerAnswered(code)
        return code, payload


class TelegramChannel:
    """The `Channel` port on the Bot API; `register` (webhook and command menu) is Telegram's own step."""

    name = "telegram"
    needs_window = False  # a bot may write to anyone who started it, at any time

    def __init__(self, token: str, base_url: str = "https://api.telegram.org") -> None:
        base = base_url.rstrip("/")
        request = _Request(connection_pool_size=32, connect_timeout=10, read_timeout=30, write_timeout=30)
        self.migrated: dict[int, int] = {}
        self.bot = Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot", request=request,
                       get_updates_request=HTTPXRequest(read_timeout=40))

    async def start(self) -> None:
        await self.bot.initialize()

    async def stop(self) -> None:
        await self.bot.shutdown()

    def parse(self, payload: dict) -> Inbound | None:
        return tg_parse.parse(payload)

    async def fetch_media(self, file_id: str) -> bytes:
        try:
            file = await self.bot.get_file(file_id)
        except BadRequest as exc:  # "Invalid file_id", "file is too big": asking again is the only way
            raise MediaGone(str(exc)) from None
        return bytes(await file.download_as_bytearray())

    def is_group(self, chat_id: str) -> bool:
        """Telegram's convention: groups, supergroups and channels have negative ids, people positive ones."""
        return chat_id.startswith("-")

    def limits(self, message: Outbound) -> list[Limit]:
        """~30 messages/s per bot, 20 a minute per group (sends and edits), about one a second per private chat.
        The bot-wide budget keeps a margin (25/s): a slot is taken before the request travels and several
        workers send at once, so arrivals bunch up (bench/outbound_limits.py measured 30/s overrunning).
        Answers to button presses are not messages and count against none of them (bench/peer.py found them
        taking 4 of every 10 slots of a citizen's report)."""
        if message.answer_callback:
            return []
        # platform=True: Telegram keeps counting across a Redis restart, so the limiter holds these back a window
        overall = Limit("tg:bot", 25, 1.0, platform=True)
        paced = Limit("tg:pace", 3, 0.12, platform=True)  # evenly spread: a slow request cannot land with the next
        chat = message.to.id
        if self.is_group(chat):  # edits count too; bursts of 8, so a minute's budget is not spent at once
            # 20 per 62 s: two seconds of margin absorb a request that travelled slower than the next
            return [overall, paced, Limit(f"tg:group:{chat}", 20, 62.0, platform=True),
                    Limit(f"tg:burst:{chat}", 8, 20.0, platform=True)]
        # A person may get a short burst (a prompt right after a confirmation), then about one a second.
        return [overall, paced, Limit(f"tg:chat:{chat}", 3, 3.3, platform=True)]

    async def send(self, message: Outbound, photo: bytes | None, target: tuple[str, Outbound] | None = None, *,
                   window_open: bool = True) -> str | None:
        """Perform the calls; returns the id of the last message sent, to edit it later."""
        message_id = None
        calls = render_edit(message, int(target[0]), target[1]) if target else render(message, photo)
        try:
            for call in calls:
                result = await self._call(call)
                message_id = getattr(result, "message_id", message_id)
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "telegram 429") from None
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message}") from None
        except InvalidToken:  # 401 Unauthorized: the token was revoked or replaced in @BotFather
            raise AuthRevoked("telegram 401") from None
        except _ServerAnswered as exc:
            raise ServerError(str(exc)) from None
        except BadRequest as exc:
            text = exc.message.lower()
            if "query is too old" in text or "query id is invalid" in text or "message is not modified" in text:
                return target[0] if target else None  # nothing left to show, or already showing it
            raise Undeliverable(f"bad request: {exc.message}") from None
        return str(message_id) if message_id is not None else None

    async def _call(self, call):
        """Call the Bot API; a group upgraded to a supergroup is followed to its new id from then on."""
        kwargs = dict(call.kwargs)
        if kwargs.get("chat_id") in self.migrated:
            kwargs["chat_id"] = self.migrated[kwargs["chat_id"]]
        try:
            return await getattr(self.bot, call.method)(**kwargs)
        except ChatMigrated as exc:
            log.warning("telegram_group_migrated", old_chat_id=kwargs["chat_id"], new_chat_id=exc.new_chat_id,
                        action="update telegram_chat_id in the deployment file")
            self.migrated[kwargs["chat_id"]] = exc.new_chat_id
            return await getattr(self.bot, call.method)(**{**kwargs, "chat_id": exc.new_chat_id})

    async def register(self, public_base_url: str | None, secret: str | None) -> None:
        """Tell Telegram where to deliver updates and which commands to offer, in both languages."""
        if public_base_url:
            await self.bot.set_webhook(f"{public_base_url}/webhooks/telegram", secret_token=secret,
                                       allowed_updates=["message", "callback_query"])
        for lang in ("id", "en"):
            commands = [BotCommand(c, t(lang, f"command.{c}")) for c in COMMANDS]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                           language_code=None if lang == "id" else lang)


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
