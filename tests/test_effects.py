"""Plain texts to one chat are joined, so a slow phone gets fewer messages; rich messages stay apart."""
from core.messages import Address, Choice, Outbound
from workflows.effects import coalesce

A, B = Address("telegram", "1"), Address("telegram", "2")


def test_plain_text_joins_the_next_text_to_the_same_chat():
    out = coalesce([Outbound(A, "one"), Outbound(A, "two", choices=(Choice("x", "X"),)), Outbound(B, "three")])
    assert [(m.to, m.text) for m in out] == [(A, "one\n\ntwo"), (B, "three")]
    assert out[0].choices == (Choice("x", "X"),)


def test_messages_with_buttons_photos_or_refs_are_not_merged():
    out = coalesce([Outbound(A, "q", choices=(Choice("x", "X"),)), Outbound(A, "next"),
                    Outbound(A, "card", ref="card:1"), Outbound(A, "after")])
    assert [m.text for m in out] == ["q", "next", "card", "after"]


def test_an_edit_of_a_card_is_never_joined_with_another_message():
    from core.messages import Address, Outbound
    from workflows.effects import coalesce
    ops = Address("telegram", "-100")
    merged_card = Outbound(to=ops, text="card 2, no buttons left", edit_of="card:2")
    survivor = Outbound(to=ops, text="card 1", edit_of="card:1")
    assert coalesce([merged_card, survivor]) == [merged_card, survivor]
    assert coalesce([Outbound(to=ops, text="note"), survivor]) == [Outbound(to=ops, text="note"), survivor]
