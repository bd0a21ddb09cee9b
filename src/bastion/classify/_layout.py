"""Text read without the layout it was sent in: the comments of code, block quotes, fenced
blocks, lists and one-column tables a word a row, words after shuffled numbers, JSON and CSV
cells, and words wrapped in quotes, hashtags, markdown links or spoilers.

The model reads a request set in such marks diluted by them; each reader here takes the
words out of their layout, and :func:`json_reading` is also how a JSON text is read at all.
"""

from __future__ import annotations

import csv
import itertools
import re

import re2

from bastion.classify._fold import PY_SPACE
from bastion.classify._language import COMMON, looks_like_code
from bastion.classify._normalize import unescape
from bastion.classify._sentences import CELL_WORDS, View, _windowed

#: A comment in code: ``/* ... */``, ``<!-- ... -->``, ``// ...`` (not the ``//`` of a URL)
#: and ``# ...`` after code or indented (a markdown heading is at a line's start, a hashtag
#: has no space after its ``#``).
_COMMENT = re.compile(r"/\*([\s\S]*?)\*/|<!--([\s\S]*?)-->|(?<![:/\w])//([^\n]*)"
                      r"|(?<=[ \t])#[ \t]([^\n]*)")
_COMMENT_MARKS = ("/*", "//", "<!--", "#")


def _comments(clean: str, pair_chars: int, run_on: tuple[int, int]) -> list[View]:
    """The comments of code, read without the code around them (found in a black-box pass: a
    request in a C comment passed, the model reading it diluted by ``int main(void)``); each
    of ``CELL_WORDS`` words or more, as a table's cells are, all in one view."""
    if not any(mark in clean for mark in _COMMENT_MARKS):
        return []
    found = [(m.start(), m.end(), " ".join(next(g for g in m.groups() if g is not None).split()))
             for m in _COMMENT.finditer(clean)]
    found = [f for f in found if len(f[2].split()) >= CELL_WORDS]
    if not found or (said := "\n".join(f[2] for f in found)).strip() == clean.strip():
        return []
    return _windowed(View(said, found[0][0], found[-1][1], "comment"), pair_chars, run_on)


#: A block quote: lines that open with ``>`` (markdown, e-mail replies), one or more.
_QUOTE_BLOCK = re.compile(r"(?:^[ \t]*>[^\n]*(?:\n|$))+", re.MULTILINE)
_QUOTE_MARK = re.compile(r"^[ \t]*>+[ \t]?", re.MULTILINE)


def _quoted(clean: str, pair_chars: int, run_on: tuple[int, int]) -> list[View]:
    """Each block quote of ``CELL_WORDS`` words or more read without the text around it (the
    red team's own ``markdown`` converter sets a request as a quoted task under headings:
    recall on 300 harmful validation requests fell from 0.957 to 0.833; read so, 0.957). It
    fired on none of 4,493 benign validation texts and on 2 of 2,801 chatbot prompts (both
    flagged without it)."""
    if ">" not in clean:
        return []
    out = []
    for block in _QUOTE_BLOCK.finditer(clean):
        said = " ".join(_QUOTE_MARK.sub("", block.group(0)).split())
        if len(said.split()) >= CELL_WORDS and block.group(0).strip() != clean.strip():
            out += _windowed(View(said, block.start(), block.end(), "quoted"), pair_chars,
                             run_on)
    return out


#: A fenced block of markdown (three backticks or tildes, a language name or none, up to the
#: same fence or the text's end), and a span in backticks that holds a space.
_FENCE = re.compile(r"(`{3,}|~{3,})[^\n`]*\n?([\s\S]*?)(?:\1|$)|`([^`\n]*\s[^`\n]*)`")


def _fenced(clean: str) -> list[View]:
    """Prose in a fenced block or in backticks, of ``CELL_WORDS`` words or more, read without
    its fence (a fourteenth black-box pass: a request between two lines of three backticks
    read 0.42, and 0.98 without them; the model learnt fences from benign code); code in a
    fence (:func:`looks_like_code`) is read as sent."""
    if "`" not in clean and "~~~" not in clean:
        return []
    out = []
    for block in _FENCE.finditer(clean):
        said = " ".join((block.group(2) if block.group(1) else block.group(3)).split())
        if len(said.split()) >= CELL_WORDS and said != " ".join(clean.split()) \
                and not looks_like_code(said):
            out.append(View(said, block.start(), block.end(), "fenced", apart=True))
    return out


#: A list item of one or two words: ``1. How``, ``- pipe bomb``; four or more in a row.
#: The number may follow a label and end with a colon: ``part 1: How`` (a fourteenth pass).
_ITEM = r"^[ \t]*(?:(?:[A-Za-z]{2,8}[ \t]?)?\d{1,3}[.):]|[-*\u2022+])[ \t]+"
_WORD_ITEMS = re.compile(rf"(?:{_ITEM}\S+(?:[ \t]+\S+)?[ \t]*(?:\n|$)){{4,}}", re.MULTILINE)
_ITEM_MARK = re.compile(_ITEM, re.MULTILINE)
#: A table row of one cell of one or two words (``| How |``), or a rule under a header
#: (``|---|``); four or more in a row.
_CELL_ITEMS = re.compile(r"(?:^[ \t]*\|[ \t]*(?::?-+:?|[^|\s]+(?:[ \t]+[^|\s]+)?)[ \t]*\|?"
                         r"[ \t]*(?:\n|$)){4,}", re.MULTILINE)
_CELL_MARK = re.compile(r"^[ \t]*\|[ \t]*:?-+:?[ \t]*\|?[ \t]*$|\|", re.MULTILINE)


#: Four or more words each after its number (``3:I 1:How 2:do``), on one line.
_NUMBERED_WORDS = re.compile(r"(?<!\S)(?:\d{1,3}[:.)=][ \t]?[^\s\d]\S*[ \t]+){3,}"
                             r"\d{1,3}[:.)=][ \t]?[^\s\d]\S*")
_NUMBERED_WORD = re.compile(r"(\d{1,3})[:.)=][ \t]?([^\s\d]\S*)")


def _numbered_words(clean: str) -> list[View]:
    """Words each after its number, the numbers one to n (or zero on) shuffled, read in the
    numbers' order (a fourteenth black-box pass: ``Reorder by number: 3:I 1:How 2:do ...``
    passed 3 of 5); a list in order is read as sent."""
    out = []
    for run in _NUMBERED_WORDS.finditer(clean):
        pairs = [(int(n), word) for n, word in _NUMBERED_WORD.findall(run.group(0))]
        numbers = sorted(n for n, _ in pairs)
        if numbers[0] in (0, 1) and numbers == list(range(numbers[0], numbers[0] + len(
                pairs))) and numbers != [n for n, _ in pairs]:
            out.append(View(" ".join(word for _, word in sorted(pairs)), run.start(), run.end(),
                            "listed"))
    return out


def _list_words(clean: str) -> list[View]:
    """Each run of four list items or more of one or two words read as one line (found in a
    sixth black-box pass: a request numbered a word a line, ``1. How`` ``2. do`` ..., passed
    at 0.02, the numbers read between its words); so is a table of one column, a word a row
    (a thirteenth pass: ``| How |`` ``| do |`` ... passed)."""
    if "\n" not in clean:
        return []
    return [View(" ".join(_ITEM_MARK.sub("", m.group(0)).split()), m.start(), m.end(), "listed")
            for m in _WORD_ITEMS.finditer(clean)] + [
        View(" ".join(_CELL_MARK.sub(" ", m.group(0)).split()), m.start(), m.end(), "listed")
        for m in _CELL_ITEMS.finditer(clean) if "|" in clean]


def _json_words(clean: str) -> list[View]:
    """A JSON text whose values (strings not followed by a colon) are mostly a word or two,
    four or more, read as one line of its values, keys left out: a request a word a value,
    ``{"w0": "How", "w1": "do", ...}``, read as its strings one per line with the keys
    between, passed (a fourteenth black-box pass)."""
    if not _JSON_START.match(clean) or clean.count('"') < 8:
        return []
    values = [unescape(m.group(1)) for m in _JSON_STRING.finditer(clean)
              if not clean[m.end():m.end() + 40].lstrip().startswith(":")]
    short = sum(1 <= len(v.split()) <= 2 for v in values)
    if short < _JSON_WORDS or short < 0.75 * len(values):
        return []
    return [View(" ".join(" ".join(values).split()), 0, len(clean), "listed")]


#: Fewest values of a word or two that :func:`_json_words` reads as one line, and fewest
#: cells of a word or two (and rows) a column needs for :func:`_csv_columns`.
_JSON_WORDS = _CSV_CELLS = 4


#: A cell of one or two words (letters, an apostrophe, a hyphen, closing punctuation).
_CELL_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*[?!.]?(?: [A-Za-z][A-Za-z'-]*[?!.]?)?")


def _csv_columns(clean: str) -> list[View]:
    """Each column of a comma, semicolon or tab separated table (four rows or more with the
    same number of fields; not in code) whose cells are mostly a word or two, four or more,
    read as one line (a fifteenth black-box pass: a request a word a row, ``0,How`` ``1,do``
    ..., passed 4 of 5 inside prose, read with the row numbers between its words)."""
    if "\n" not in clean or not any(mark in clean for mark in ",;\t") or looks_like_code(
            clean):
        return []
    out = []
    lines = clean.split("\n")
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    for mark in ",;\t":
        counts = [line.count(mark) for line in lines]
        for fields, group in itertools.groupby(range(len(lines)), key=counts.__getitem__):
            rows = list(group)
            if fields == 0 or len(rows) < _CSV_CELLS:
                continue
            table = list(csv.reader((lines[i] for i in rows), delimiter=mark))
            for column in zip(*(row for row in table if len(row) == fields + 1), strict=False):
                short = [c for c in column if _CELL_WORDS.fullmatch(c.strip())]
                if len(short) >= _CSV_CELLS and len(short) >= 0.75 * len(column):
                    out.append(View(" ".join(" ".join(column).split()), starts[rows[0]],
                                    starts[rows[-1]] + len(lines[rows[-1]]), "listed"))
    return out


#: A text that opens as JSON does, or a piece of JSON cut mid-string (a window of streamed
#: tool-call arguments: ``ity": "Rome"}``).
_JSON_START = re.compile(r'\s*[\[{]\s*["\[{\]}]|[^"\n]{0,40}"\s*[:,\]}]')
_JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_JSON_SYNTAX = re.compile(r"[\[\]{}:,]|-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b"
                          r"|\b(?:true|false|null)\b")


def json_reading(text: str) -> str | None:
    """What a JSON text says: its strings (keys and values, unescaped, one per line) and
    anything outside them that is not JSON syntax; ``None`` when ``text`` is not JSON.

    The contextual model flags short JSON objects (``{"city": "Rome"}``) as injections: it
    learned that JSON comes with attacks, so a tool call's arguments read as one. The words
    carry the meaning; what is outside the strings is read too, so nothing hides there.
    """
    if not _JSON_START.match(text) or '"' not in text:
        return None
    # The one JSON-escape decoder (a string with an invalid escape still has its valid ones
    # decoded; a lone surrogate reads as U+FFFD, as in streamed tool-call arguments)
    strings = [unescape(literal) for literal in _JSON_STRING.findall(text)]
    rest = " ".join(_JSON_SYNTAX.sub(" ", _JSON_STRING.sub(" ", text)).split())
    return "\n".join([*strings, rest] if rest else strings)


_JSON_LINE = re.compile(r'\s*[\[{"]')


def _json_lines(text: str) -> str | None:
    """``text`` with each line of JSON in it (a tool call's arguments joined to the prompt,
    pretty-printed JSON) read as its words; ``None`` when no line is JSON."""
    lines = text.split("\n")
    read = [(json_reading(line) or line).replace("\n", " ") if _JSON_LINE.match(line)
            else line for line in lines]
    return "\n".join(read) if read != lines else None


#: Four or more words each wrapped or joined by punctuation: in quotes or backticks (``"How"
#: "do"``, a Python list ``['How', 'do']``, strings joined by ``+``), brackets or asterisks, as
#: hashtags (``#How #do``), or joined by slashes as in a URL path (``/how/do/i/make``).
_WRAPPED_WORD = r"""[\["']?["'#`({*] ?[A-Za-z']+[?.!]? ?["'`)}*]?\]?"""
#: (RE2: Python's backtracking took cubic time on a long run of quotes, 68 s for 20,000
#: apostrophes; see ``_fold.PY_SPACE``)
_WRAPPED = re2.compile(rf"(?:{_WRAPPED_WORD}[,{PY_SPACE}+]+){{3,}}{_WRAPPED_WORD}")
_SLASHED = re.compile(r"(?<![\w.])(?:[A-Za-z']+/){3,}[A-Za-z']+[?.!]?")
_WRAPPING = re.compile(r"""(?<![A-Za-z])["'#`({*\[\]]|["'`)}*\]](?![A-Za-z])|,(?=\s)|\+""")


#: A markdown link or picture (``[text](url)``, ``![alt](url)``) and a spoiler (``>!text!<``,
#: ``||text||``, not code's ``a || b``): what they show is read without the marks and the
#: address.
_MARKED_UP = re.compile(r"!?\[([^\[\]\n]{1,500})\]\([^()\s]{1,500}\)|>!([^\n]{1,500}?)!<"
                        r"|\|\|(?! )([^|\n]{1,500}?)(?<! )\|\|")


def _unwrap(text: str) -> str:
    """``text`` with runs of four words or more that are each quoted, tagged or joined by
    slashes read as plain words (found in a seventh black-box pass: ``"How" "do" "I" ...``,
    a URL path ``https://example.com/how/do/i/make/a/pipe/bomb`` and hashtags passed, the
    model reading the marks between the words), and markdown links, pictures and spoilers
    as what they show (a fifteenth: a request as a picture's alt text passed 1 of 5, the
    model reading the address; in a spoiler inside prose 1 of 5, its "!" ending a sentence);
    ``text`` itself when there is none, or when the words hold fewer than two common English
    words (a file path, a list of names)."""
    if "](" in text or ">!" in text or "||" in text:
        shown = _MARKED_UP.sub(lambda m: next(g for g in m.groups() if g is not None), text)
        if shown != text:
            return _unwrap(shown)
    wrapped = (sum(text.count(mark) for mark in "\"'`*") >= 8
               or sum(text.count(mark) for mark in "#({") >= 4)
    if not wrapped and text.count("/") < 3:
        return text

    def plain(match: re.Match[str]) -> str:
        run = match.group(0)
        said = " ".join(_WRAPPING.sub(" ", run.replace("/", " ")).split())
        return said if sum(w.lower() in COMMON for w in said.split()) >= 2 else run

    read = _WRAPPED.sub(plain, text) if wrapped else text
    return _SLASHED.sub(plain, read) if "/" in read else read
