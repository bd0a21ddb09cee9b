"""An answer's text gathered into buffers per (choice, field), and what the classifier reads.

A whole answer and a stream fill the same buffers (a field's pieces in order), and read them
the same way: each choice's fields joined in a fixed order (:func:`per_choice`), the names of
keys apart (:func:`key_names`), and the :data:`ARRIVAL` reading of a choice whose text goes
from field to field (:func:`arrives`, :func:`into_call`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bastion.gateway._arrival import Reader, is_arguments
from bastion.gateway._jsontext import reading
from bastion.gateway._links import is_link, link_words
from bastion.gateway._walk import NAMES, AnswerText, Key

FIELD_ORDER = ("text", "content", "refusal", "reasoning_content", "reasoning",
               "reasoning_details", "audio", "tool", "function_call", "logprobs", "x", "links")
PROSE = frozenset({"text", "content", "refusal", "reasoning_content", "reasoning",
                   "reasoning_details", "audio"})
"""Fields a client may print as one running text, in the order their pieces arrive."""
ARRIVAL = "arrival"
"""The buffer of a choice whose prose interleaves between fields: its pieces in the order
they came (a text split between ``content`` and ``refusal`` deltas reads as a whole only
so, and a client printing every delta shows it so)."""
LINKS = "links"
"""The buffer of the words a choice's links carry, one link after another (see
:func:`cited`)."""
TITLES = "links.titles"
"""The buffer of the titles of a choice's citations, one after another (see :func:`cited`)."""
CHOICES = -3
"""The choice index of a stream's prose read across its choices in the order it came (see
``_held.Held``): pieces of one answer spread over the choices asked for."""


def _order(key: Key) -> tuple[int, int, int, str, str]:
    """Fields of a choice in a fixed order: content first, then the names of all its tool
    calls in a run, then their arguments. A name before each call's arguments put the JSON
    between one name and the next: eleven calls named 'Sure', 'here', ... 'bomb', 'at',
    'home', each with arguments '{}', read as 'pipe {} bomb' and passed the keyword rules
    streamed and not (issue 8)."""
    head, _, rest = key[1].partition(".")
    rank = FIELD_ORDER.index(head) if head in FIELD_ORDER else len(FIELD_ORDER)
    call, _, part = rest.rpartition(".")
    return key[0], rank, 0 if part == "name" else 1, call, key[1]


def arrives(key: Key) -> bool:
    """Whether field ``key`` is read in arrival order with the prose when fields interleave:
    the prose, a tool call's name and arguments, and any other string of a choice the reader
    has no name for (``x.<field>``; beside the choices, a chunk's own: across the choices,
    :data:`CHOICES`). A client printing every string shows such a field with the content,
    and read field by field, an answer's pieces alternating between ``delta.content`` and
    ``delta.some_unknown_key``, a tool call's arguments, an annotation of a Responses stream,
    or a whole answer's output items passed while the whole read as harmful (issue 8)."""
    head = key[1].partition(".")[0]
    return head in _ARRIVING or (head == "x" and key[0] >= -1)


_CALLS = frozenset({"tool", "function_call"})
_ARRIVING = PROSE | _CALLS


def into_call(before: str, field: str) -> bool:
    """Whether a choice's text goes on from prose into a tool call, or from a call into prose:
    read in arrival order as interleaving text is (see :func:`buffers_of`). The content, then
    a call whose arguments finish its sentence, was read field by field with the tool's name
    and the JSON between ('... build a pipe' / 'search' / 'query' / 'bomb at home.') and
    passed the keyword rules, whole or streamed (issue 8)."""
    heads = {before.partition(".")[0], field.partition(".")[0]}
    return len(heads & PROSE) == 1 and len(heads & _CALLS) == 1


def cited(item: AnswerText) -> tuple[Key, str] | None:
    """The words of ``item`` when it is a link of its own (a citation's ``url``) or a title
    (a citation's), to be read in the choice's :data:`LINKS` buffer with its other links'
    and titles, as a client lists its sources, with a space after them; "" for anything
    else. Each was read glued to the next in its field's buffer ('https://ex.com/s0Sure
    https://ex.com/s1here...'), and as nothing in arrival order: eleven citations whose
    links ended, or whose titles were, 'Sure', 'here', ... 'pipe', 'bomb' passed every
    tier, whole and streamed (issue 8). Titles and links are read apart (a title 's' beside
    each link broke the words the links carried): (the buffer, the text to add), or
    ``None``."""
    if not item.key[1].startswith("x.") or not item.text.strip():
        return None
    if item.path[-1:] == ("title",):
        return (item.key[0], TITLES), item.text.strip() + " "
    words = link_words(item.text, host=True) if is_link(item.text) else ""
    return ((item.key[0], LINKS), words + " ") if words else None


def buffers_of(texts: list[AnswerText]) -> dict[Key, str]:
    """Each field's text, concatenated in order (what a stream accumulates), and the
    :data:`ARRIVAL` buffer of each choice whose text interleaves (a field :func:`arrives`
    has text again after another field had some) or goes on into a tool call
    (:func:`into_call`): its pieces as they read one after another (``_arrival.Reader``);
    and the :data:`LINKS` and :data:`TITLES` buffers of each choice that cites links
    (:func:`cited`)."""
    out: dict[Key, str] = {}
    pieces: dict[int, list[tuple[str, str]]] = {}
    reader = Reader()
    for item in texts:
        out[item.key] = out.get(item.key, "") + item.text + item.sep
        if (cite := cited(item)) is not None:
            out[cite[0]] = out.get(cite[0], "") + cite[1]
        if arrives(item.key) and item.key[0] >= 0 and item.text:
            pieces.setdefault(item.key[0], []).append(
                (item.key[1], reader.read(item.key, item.text) + item.sep))
    for index, ordered in pieces.items():
        fields = [name for n, (name, _) in enumerate(ordered)
                  if n == 0 or ordered[n - 1][0] != name]
        if len(fields) > len(set(fields)) or any(map(into_call, fields, fields[1:])):
            out[(index, ARRIVAL)] = "".join(text for _, text in ordered)
    return out


def reading_of(key: Key, text: str) -> str:
    """What the classifier reads of field ``key``'s text (JSON as its strings: see
    ``_jsontext.reading``)."""
    return reading(text, arguments=is_arguments(key))


def per_choice(buffers: Mapping[Key, str]) -> list[str]:
    """Each choice's fields joined (extra top-level text as one more), in a fixed order; the
    names of keys are not among them (see :func:`key_names`), nor a prose field that its
    choice's :data:`ARRIVAL` reading holds whole (:func:`_read_in_arrival`)."""
    by_choice: dict[int, list[str]] = {}
    arrivals = {key[0]: reading_of(key, text) for key, text in buffers.items()
                if key[1] == ARRIVAL and text}
    for key in sorted(buffers, key=_order):
        if buffers[key] and key[1] != NAMES:
            read = reading_of(key, buffers[key])
            if not _read_in_arrival(key, read, arrivals.get(key[0])):
                by_choice.setdefault(key[0], []).append(read)
    return ["\n".join(parts) for _, parts in sorted(by_choice.items())]


def _read_in_arrival(key: Key, read: str, arrival: str | None) -> bool:
    """Whether prose field ``key``, read as ``read``, stands whole and unbroken in its
    choice's arrival reading, which is read anyway: an answer with content and a tool call
    was read twice over (the content alone, then in the arrival reading with the call's
    arguments), and the classifier took 20.3 ms instead of 11.1 (median, default tier).
    A field whose pieces other fields' came between is still read alone too: there the
    arrival reading has them apart ('pi' 'x' 'pe')."""
    return arrival is not None and key[1].partition(".")[0] in PROSE and read in arrival


def key_names(buffers: Mapping[Key, str]) -> list[str]:
    """The names of keys each choice holds that are not inert identifiers, one text per
    choice, to be read on their own: joined with the answer, the names of OpenRouter's usage
    fields (``upstream_inference_completions_cost``) made a benign answer read as an
    injection to the contextual model."""
    return [buffers[key] for key in sorted(buffers) if key[1] == NAMES and buffers[key]]
