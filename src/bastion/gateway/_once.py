"""What of a stream's chunk is read once, not appended again: metadata a server repeats in
every chunk, and a tool call's name sent again whole beside each piece of its arguments
(``_held.Held`` reads a chunk's texts through these)."""

from __future__ import annotations

from bastion.gateway._walk import NAMES, AnswerText, Key


def repeated_name(item: AnswerText, buffers: dict[Key, str], start: int) -> bool:
    """Whether ``item`` is a tool call's name sent again whole (some servers repeat it beside
    each piece of the arguments): not more of the answer, so not read in arrival order."""
    size = len(item.text)
    if not item.key[1].endswith(".name") or not size or not start or start % size:
        return False
    return buffers[item.key][:start] == item.text * (start // size)


def metadata(route: str, item: AnswerText) -> bool:
    """Whether ``item`` may be metadata a server repeats in every chunk (read once)."""
    return (item.key[0] == -1 or item.key[1].startswith("x.") or item.key[1] == NAMES) \
        and not more_answer(route, item)


def more_answer(route: str, item: AnswerText) -> bool:
    """Whether ``item`` is more of the answer, never metadata a server repeats in every chunk,
    so a piece sent twice is read twice (read once, a repeated piece dropped out of the
    reading that the client shows): what a chat chunk's ``delta`` holds, and the extra
    fields of a Responses event that is no repeat (choice 0: see ``event_texts``)."""
    if item.key[1] == NAMES:
        return False
    if route == "responses":
        return item.key[0] == 0
    path = item.path
    return len(path) > 3 and path[0] == "choices" and path[2] == "delta"
