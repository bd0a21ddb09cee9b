"""Evidence segments: the text cut at span edges, never lost, overlaps merged."""

from __future__ import annotations

from bastion.classify import Span
from bastion.policy.web import Segment, segments


def test_segments_join_back_to_the_text_and_mark_the_spans() -> None:
    text = "say <b>kick</b> the puppy now"
    found = segments(text, [Span(4, 15, "PET", "keyword")])
    assert "".join(s.text for s in found) == text
    assert found == [Segment("say "), Segment("<b>kick</b>", True, "PET: keyword"),
                     Segment(" the puppy now")]


def test_overlapping_spans_merge_and_notes_stay_with_their_part() -> None:
    found = segments("abcdefgh", [Span(1, 5, "A"), Span(3, 7, "B")])
    assert [(s.text, s.marked, s.note) for s in found] == [
        ("a", False, ""), ("bc", True, "A"), ("de", True, "A; B"), ("fg", True, "B"),
        ("h", False, "")]


def test_spans_outside_the_text_are_clipped_or_dropped() -> None:
    found = segments("short", [Span(-3, 2), Span(4, 99), Span(50, 60), Span(3, 3)])
    assert [(s.text, s.marked) for s in found] == [("sh", True), ("or", False), ("t", True)]
    assert segments("", [Span(0, 4)]) == []
