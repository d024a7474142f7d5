"""The tables: reporters, conversations, cases and their timeline, media, inbox, outbox and timers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class Reporter(Base):
    """A citizen as known on one channel; personal data lives here and nowhere in logs."""

    __tablename__ = "reporters"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(5), default="id")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """The saved state of one chat's conversation, versioned so concurrent writers cannot both win."""

    __tablename__ = "conversations"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Media(Base):
    """A photo as received (evidence) and the metadata-free copy we forward; in the database: every process sees it."""

    __tablename__ = "media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original: Mapped[bytes] = mapped_column(LargeBinary)
    clean: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """One emergency report from submission to closing."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    incident_type: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    chat: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="id")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address_text: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    photo_media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    operator: Mapped[str | None] = mapped_column(String(100))
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    # How the report reached us: telegram | whatsapp | web (a chat) or phone | radio | walk_in | relay (entered by
    # an operator, `entered_by`, with the caller's name and number as personal data like the reporter's).
    intake: Mapped[str] = mapped_column(String(16), default="")
    entered_by: Mapped[str | None] = mapped_column(String(100))
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    # The ministry's classes of 112 traffic: emergency | information | ghost | prank (unset: not classed yet).
    traffic_class: Mapped[str | None] = mapped_column(String(16))
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an operator's first step on it
    drill: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # LATIHAN: out of every figure
    # Where, in the regency's gazetteer: the desa/kelurahan and kecamatan codes (Kepmendagri), how they were
    # found (pin_inside | pin_nearest | typed_confirmed | typed_unmatched), the pin's distance to the desa's
    # centre when only the nearest was found, and the accuracy the reporter's phone gave for its pin.
    desa_code: Mapped[str | None] = mapped_column(String(16))
    kecamatan_code: Mapped[str | None] = mapped_column(String(16), index=True)
    place_match: Mapped[str | None] = mapped_column(String(16))
    place_distance_m: Mapped[float | None] = mapped_column(Float)
    location_accuracy_m: Mapped[float | None] = mapped_column(Float)
    # The operators' group (a desk, `operators.desks`) whose card this case has; unset: the main group.
    desk_chat_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reporter: Mapped[Reporter] = relationship(lazy="raise")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="raise")


class CaseEvent(Base):
    """The timeline: every transition with who did it and when."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    case: Mapped[Case] = relationship(back_populates="events")


class Task(Base):
    """One agency's part in a case: dispatched to its crew group, owned by the first member to accept."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency: Mapped[str] = mapped_column(String(32))
    support_of_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(100))
    owner_name: Mapped[str | None] = mapped_column(String(200))
    eta_minutes: Mapped[int | None] = mapped_column(Integer)
    refuse_reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A documentation photo a crew sent when finishing, kept on the case."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"))
    by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxItem(Base):
    """A platform update stored before we acknowledge it; the unique key makes re-deliveries harmless."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbox_pending", "status", "conversation_key", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    conversation_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    """A message committed with the change that caused it, sent later by a worker."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before"),
        Index("ix_outbox_lane", "channel", "chat_id", "status", "id"),
        Index("ix_outbox_group", "channel", "group_chat", "status"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))  # the lane: the chat, or the chat and what keeps its own order
    group_chat: Mapped[str | None] = mapped_column(String(64))  # a group's messages: one in flight, the most urgent
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # A new card folded into a list of waiting reports (status "batched"): the ref of that list's message.
    batch_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    edit_of: Mapped[str | None] = mapped_column(String(64), index=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(12))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Shift(Base):
    """A duty shift checked in from chat: an operator's, or a crew member's for one agency."""

    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_open", "role", "ended_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Drill(Base):
    """A rehearsal: while it runs, reports (from the listed testers, or all) are marked LATIHAN."""

    __tablename__ = "drills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unset: until stopped
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    started_by: Mapped[str] = mapped_column(String(100))
    testers: Mapped[list[str] | None] = mapped_column(JSON)  # "channel:id" addresses; unset: every report


class Timer(Base):
    """Something due later; when it fires it becomes an inbox event, and a stale one does nothing."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("kind", "key", "version"), Index("ix_timers_due", "status", "due_at"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Heartbeat(Base):
    """A worker loop's last sign of life, one row per process and loop, so any web process can report a stopped loop."""

    __tablename__ = "heartbeats"
    process: Mapped[str] = mapped_column(String(100), primary_key=True)  # "host:pid"
    loop: Mapped[str] = mapped_column(String(16), primary_key=True)  # inbox, outbox, timers
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Account(Base):
    """A dashboard user (operator or leadership), created with `siaga account add`; the password is Argon2-hashed."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    can_act: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # set: a 6-digit code is needed as well
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code is never accepted twice


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, only its hash is stored, with the CSRF token."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last real action: idle sessions end


class SigninThrottle(Base):
    """Failed sign-ins of one (username, address) pair, both keyed hashes: each try past the first few waits longer."""

    __tablename__ = "signin_throttle"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Who did what, to which case or export, when and from where: append-only, pruned by the retention pass."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_actor_at", "actor", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer)
    ticket: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str | None] = mapped_column(String(64))
