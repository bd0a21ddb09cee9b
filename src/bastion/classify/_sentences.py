"""A view (one string the model scores, and the span of the text it stands for) and the
windows a long text is read in: a sentence at a time, word windows inside a run-on sentence,
a few rows of a table together.

Apart from the decoders (:mod:`bastion.classify._variants` and the modules it reads with),
because windows are their own idea: every decoded form that is long is read in the same
windows as the text, and the language check reads sentences through :func:`sentences_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Texts longer than this are also read in windows (a harmful request after a paragraph of
#: prose must not be diluted by it).
WHOLE_CHARS = 200
#: Sentences longer than this many words are also read in overlapping word windows.
RUN_ON_WORDS = 20
#: Word windows inside a run-on sentence: (words per window, words moved each time). The
#: shipped model's card sets them (its ``windows``); this is the default without one.
RUN_ON = (12, 6)
_WORD_SPAN = re.compile(r"\S+")
#: Longest sentence window (characters); longer sentences are cut at whitespace.
WINDOW_CHARS = 320
_SENTENCE = re.compile(r"[^.!?\n\u3002\uff01\uff1f]+(?:[.!?\u3002\uff01\uff1f]+[\"')\]]*|\n+|$)")


@dataclass(frozen=True)
class View:
    """One string the model scores, standing for ``[start, end)`` of the original text."""

    text: str
    start: int
    end: int
    source: str  # "text", "window", "folded", "base64", "hex", "tags", "url", "reversed", ...
    #: A decoded form of one sentence of a long text, read apart from the text around it.
    apart: bool = False

    @property
    def out_of_context(self) -> bool:
        """Whether the view reads part of the text out of its context (a sentence window,
        or a sentence's decoded form), so its score counts after the window margin."""
        return self.source == "window" or self.apart


def _windowed(view: View, pair_chars: int, run_on: tuple[int, int], *,
              aligned: bool = False) -> list[View]:
    """``view`` and, when it is long, its windows as the text's own: a request spelled out
    letter by letter or reversed inside 2,000 characters of prose is read decoded, a sentence
    at a time, not diluted in the whole (the windows it shares with the text are dropped by
    :func:`_unique`). A window names its span where the view keeps the text's layout (rot13;
    runs of words reversed where they stand), else the whole view's."""
    if len(view.text) <= WHOLE_CHARS:
        return [view]
    return [view, *(View(view.text[a:b], *((view.start + a, view.start + b) if aligned
                                           else (view.start, view.end)), view.source)
                     for a, b in sentence_windows(view.text, pair_chars=pair_chars,
                                                  run_on=run_on))]


def sentence_windows(text: str, *, pair_chars: int = WINDOW_CHARS,
                     run_on: tuple[int, int] = RUN_ON) -> list[tuple[int, int]]:
    """Windows of a long text: every sentence alone (word windows of ``run_on`` inside a
    run-on sentence) and every pair of consecutive sentences that fits in ``pair_chars``, so
    a short sentence is also read with its neighbour."""
    sentences = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        if text[start:end].strip():
            sentences.append((start, end))
    spans = _pack_records(text, sentences)
    out: list[tuple[int, int]] = []
    for i, (start, end, rows) in enumerate(spans):
        if rows and end - start <= WINDOW_CHARS:
            out.append((start, end))  # rows of a table, read together as they stand
            for cell in _CELL.finditer(text, start, end):  # and each sentence in a cell
                if len(cell.group(0).split()) >= CELL_WORDS:
                    out += _word_windows(text, *cell.span(), run_on)
            continue
        out += _word_windows(text, start, end, run_on)
        if i + 1 < len(spans) and spans[i + 1][1] - start <= pair_chars:
            out.append((start, spans[i + 1][1]))
    # a window of fewer than three letters says nothing the text around it does not: a rule
    # of dashes or a line of numbers read alone scored up to 0.79 harmful in pasted tables
    return [(a, b) for a, b in out if _LETTER.search(text, a, b) and len(
        _LETTER.findall(text, a, b)) >= _WINDOW_LETTERS]


#: A letter (of any script), and the fewest a window needs to be read.
_LETTER = re.compile(r"[^\W\d_]")
_WINDOW_LETTERS = 3
#: Field separators of a table row: comma, semicolon, tab, pipe.
_SEPARATORS = ",;\t|"
#: A line of a table: two or more field separators on one line (a CSV or TSV row, a header, a
#: markdown table row or rule); a full stop inside it (3.5) does not cut it.
_RECORD = re.compile(rf"^[^\n]*?[{_SEPARATORS}][^\n]*?[{_SEPARATORS}][^\n]*(?:\n|$)",
                     re.MULTILINE)
#: A cell of a table row (between separators, without its padding), and the fewest words of
#: one that is read alone as a sentence: a request hidden in a cell is not diluted by the rows
#: around it, while headers, ids, names and flags are read only with their rows.
_CELL = re.compile(rf"[^{_SEPARATORS}\n\s](?:[^{_SEPARATORS}\n]*[^{_SEPARATORS}\n\s])?")
CELL_WORDS = 4


def sentences_of(window: str) -> list[str]:
    """What the language check reads of a sentence window: the window, or, when it is rows of
    a table (see :func:`_pack_records`), each row's cells of more than one word, row by row.
    A cell written in another language is found as when each row was a window of its own,
    while ids, numbers and one-word cells (a Y/N flag reads as Spanish "y") are not judged
    as prose."""
    lines = window.splitlines()
    if len(lines) > 1 and all(_RECORD.fullmatch(line) for line in lines if line.strip()):
        return [" ".join(cell for cell in _CELL.findall(line) if len(cell.split()) > 1)
                for line in lines]
    return [window]


def _pack_records(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """``spans`` with runs of consecutive table lines joined into chunks of up to
    :data:`WINDOW_CHARS` characters, each marked True when it is such a chunk.

    A header ("name,company,phone,updated"), a markdown rule ("|---|---|") or one row read
    alone is no sentence: the model, which reads sentences, scored such lines up to 0.99
    harmful or injection in pasted spreadsheets whose whole it read as benign (91 of the 193
    benign development rows of ``data/own/c_app_structured.jsonl`` were flagged line by line,
    82 as read here; 68 of its 71 unsafe rows are caught, 67 before). Rows read a few at a
    time keep the table's own context; a harmful cell is read alone (see ``CELL_WORDS``).

    A line of prose with two commas counts as a row too (its clauses of four words or more are
    then read alone): on 2,801 real chatbot prompts this reads 4.8 % more word pieces. Asking
    rows to share their separator counts read 0.3 % more but caught 2 fewer of the 71 unsafe
    development rows (a quoted cell with a comma breaks the count), so the looser rule stays.
    """
    lines = [m.span() for m in _RECORD.finditer(text)] if "\n" in text else []
    out: list[tuple[int, int, bool]] = []
    at = 0  # the first table line that may still hold a span
    for sentence in spans:
        while at < len(lines) and lines[at][1] <= sentence[0]:
            at += 1
        row = at < len(lines) and lines[at][0] <= sentence[0]
        # the sentences of a table line are the line
        start, end = lines[at] if row else sentence
        if out and out[-1][1] > start:
            continue  # another sentence of the same line
        if row and out and out[-1][2] and end - out[-1][0] <= WINDOW_CHARS:
            out[-1] = (out[-1][0], end, True)
        else:
            out.append((start, end, row))
    return out


def _word_windows(text: str, start: int, end: int, run_on: tuple[int, int]
                  ) -> list[tuple[int, int]]:
    """The sentence itself when short, else windows of ``run_on[0]`` words moving
    ``run_on[1]`` at a time (each at most ``WINDOW_CHARS`` long); the last one ends with the
    sentence."""
    words = [m.span() for m in _WORD_SPAN.finditer(text, start, end)]
    if len(words) <= RUN_ON_WORDS and end - start <= WINDOW_CHARS:
        return [(start, end)]
    size, step = run_on
    out = []
    for first in range(0, max(len(words) - (size - step), 1), step):
        chunk = words[first:first + size]
        a, b = chunk[0][0], chunk[-1][1]
        out.append((a, min(b, a + WINDOW_CHARS)))
    return out


def _unique(items: list[View]) -> list[View]:
    seen: set[str] = set()
    out = []
    for view in items:
        key = view.text.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(view)
    return out or items[:1]
