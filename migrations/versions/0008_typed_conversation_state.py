"""Typed conversation state: every stored citizen conversation rewritten into the canonical shape.

The citizen flow now reads its state as `workflows.conversation_state.ConversationState`; this rewrites each
row into the shape its `to_json` writes: every key present (defaults for the missing ones, unknown ones
dropped), a step we do not know becomes "idle" and loses its draft, as does a draft without its start time,
and "idle" holds no draft. The rules are copied here, not imported, so this migration keeps doing what it did
when the flow changes (tests/test_migrations.py checks both agree). The `webhold:` rows (web-chat report
counts, not conversations) are left alone. No schema change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:00:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 500
STEPS = ('idle', 'type', 'photo', 'location', 'description', 'confirm')
conversations = sa.table('conversations', sa.column('key', sa.String), sa.column('state', sa.JSON))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def canonical_draft(draft: Any) -> dict[str, Any] | None:
    if not isinstance(draft, dict) or not _str(draft.get('started_at')):
        return None
    return {'started_at': draft['started_at'], 'type': _str(draft.get('type')),
            'photo_media_id': _int(draft.get('photo_media_id')), 'photo_skipped': draft.get('photo_skipped') is True,
            'latitude': _float(draft.get('latitude')), 'longitude': _float(draft.get('longitude')),
            'address': _str(draft.get('address')), 'description': _str(draft.get('description')),
            'description_done': draft.get('description_done') is True}


def canonical(state: Any) -> dict[str, Any]:
    """The state as ConversationState.from_json(state).to_json() wrote it on 2026-12-02."""
    state = state if isinstance(state, dict) else {}
    step = state.get('step') if isinstance(state.get('step'), str) and state.get('step') in STEPS else 'idle'
    draft = canonical_draft(state.get('draft')) if step != 'idle' else None
    return {'step': step if draft else 'idle', 'lang': _str(state.get('lang')) or '', 'draft': draft,
            'touch': _int(state.get('touch')) or 0, 'reminded': state.get('reminded') is True,
            'comment_for': _int(state.get('comment_for'))}


def _rewrite(change) -> None:
    """Apply `change` to every conversation row, in batches by key, writing only the rows it alters."""
    bind, last = op.get_bind(), ''
    while True:
        rows = bind.execute(sa.select(conversations.c.key, conversations.c.state)
                            .where(conversations.c.key > last, ~conversations.c.key.like('webhold:%'))
                            .order_by(conversations.c.key).limit(BATCH)).all()
        for key, state in rows:
            new = change(state)
            if new != state:
                bind.execute(conversations.update().where(conversations.c.key == key).values(state=new))
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(canonical)


def _without_empty_lang(state: Any) -> Any:
    """The earlier flow picked a language only when the key was missing: an empty one goes."""
    if isinstance(state, dict) and state.get('lang') == '':
        return {k: v for k, v in state.items() if k != 'lang'}
    return state


def downgrade() -> None:
    _rewrite(_without_empty_lang)  # the rest of the canonical shape reads fine in the earlier flow
