"""What the model reads: the text as sent plus the decoded and normalised forms attackers use
to hide it (the same forms the rules tier checks), and short windows of long texts.

:func:`views` returns, for one text, every string the model should score, each with the span
of the original text it stands for and where it came from:

- the text with invisible characters removed;
- the folded form when look-alike letters, full-width forms or leetspeak were folded;
- decoded payloads (base64, base85, uuencode, hex, Unicode tag characters, URL-encoding,
  quoted-printable, character codes, Morse, the NATO alphabet, punycode), themselves decoded
  once more (double base64);
- words joined by underscores (``how_to_build_a_bomb``, three words or more) read with
  spaces, in the text itself (the offsets stay those of the text), and camelCase words of
  three parts or more (``buildPipeBombAtHome``, ``KillThemAll``) read with spaces as a view
  of their own;
- the comments of code (``/* ... */``, ``// ...``, ``# ...``, ``<!-- ... -->``) read
  without the code around them;
- a stretch in a Caesar cipher (every letter moved the same number of places), read back;
- reversed text (the whole text; or runs of words that read backwards, reversed where they
  stand, such as a request set inside prose; or the clauses that read better reversed: an
  English preamble before a reversed request), rot13, letter-spaced text, words run together
  ("howtobuildabomb", cut into the vocabulary's words) and words split into pieces
  ("pi pe bo mb"), when the decoded form reads as English and the text as sent does not;
- misspelt words mended (Best-of-N jailbreaks: ``tkae avaadgnte``), when many are.

Windows: a text longer than ``WHOLE_CHARS`` is also read one sentence at a time (word windows
inside run-on sentences), so one harmful sentence inside 20,000 characters of benign prose is
scored on its own (a long decoded form, a spaced-out request inside prose, is read in its
own windows too); pairs of neighbouring sentences are read too when the pair is short enough.
The shipped model's card sets how short (0, none: on development data pairs were a third of the
word pieces read and gained nothing) and the run-on windows' length and step.

This module puts the views together and tests which decoded forms are read
(:func:`_forms`, :func:`_hidden_language`, :func:`_hidden_in_parts`); the readers live beside
it: the windows in :mod:`~bastion.classify._sentences`, letters apart and leetspeak in
:mod:`~bastion.classify._letters`, ciphers in :mod:`~bastion.classify._ciphers`, text sent
backwards in :mod:`~bastion.classify._reversals`, word-level re-readings in
:mod:`~bastion.classify._rewordings` and :mod:`~bastion.classify._respelling`, layout in
:mod:`~bastion.classify._layout`, and what they share in :mod:`~bastion.classify._coded`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace

import re2

from bastion.classify._ciphers import (
    _coded_digits,
    _cued_words,
    _keypad,
    _number_words,
    _polybius,
    _rot47_runs,
    _unkey,
    _unshift,
    _upside_down,
    _vowel_digits,
    upside_down,
)
from bastion.classify._coded import _LETTERS, _READABLE, segment
from bastion.classify._embed import embedder_words
from bastion.classify._language import englishness, looks_like_code
from bastion.classify._layout import (
    _comments,
    _csv_columns,
    _fenced,
    _json_lines,
    _json_words,
    _list_words,
    _numbered_words,
    _quoted,
    _unwrap,
    json_reading,
)
from bastion.classify._letters import (
    _LEET,
    _LEET_WORD,
    _LEET_WORDS,
    _heavy_leet,
    _leet_left,
    _leet_read,
    _letters_apart,
    _tidy,
    _unjoin,
    _unleet,
    _unspace,
    _unsplit,
)
from bastion.classify._normalize import (
    BLANKS,
    WHOLE_TEXT_SOURCES,
    decode_runs,
    normalize,
    rot13,
    url_runs,
)
from bastion.classify._respelling import _RESPELL_APART, _case_noise, _respell
from bastion.classify._reversals import (
    _one_line,
    _reverse_clauses,
    _reverse_runs,
    _reverse_word_order,
    _turn_words,
)
from bastion.classify._rewordings import (
    _concatenate,
    _drop_interleaved,
    _every_other,
    _fill_blanks,
    _first_letters,
    _pig_latin_runs,
    _substitute,
    _unscramble,
)
from bastion.classify._sentences import (
    _SENTENCE,
    RUN_ON,
    WHOLE_CHARS,
    WINDOW_CHARS,
    View,
    _unique,
    _windowed,
    sentence_windows,
    sentences_of,
)

#: What other modules import from here: the views, and the windows and readers they are made
#: of (which live in the modules the docstring names).
__all__ = [
    "INVISIBLE",
    "RUN_ON",
    "WINDOW_CHARS",
    "View",
    "hidden_payloads",
    "json_reading",
    "plain_forms",
    "segment",
    "sentence_windows",
    "sentences_of",
    "upside_down",
    "views",
]

#: Zero-width and tag characters carry no meaning for an embedding (tag characters are read
#: as their own view), and lone surrogates (half a UTF-16 pair) are not text a tokenizer can
#: take; deleting them is one cheap ``str.translate``.
INVISIBLE = dict.fromkeys(
    [0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, *range(0xE0000, 0xE0080),
     *range(0xD800, 0xE000)]
)
#: What the model reads a text through: invisible characters dropped, control characters and
#: blank cells (which attackers put between words) read as spaces.
_READ: dict[int, str | None] = {**INVISIBLE, **BLANKS}

#: Three or more words joined by underscores: a snake_case identifier, or prose written so to
#: look like one.
#: (RE2, as :data:`_JOINED`: linear in the text.)
_SNAKE = re2.compile(r"[A-Za-z0-9]+(?:_+[A-Za-z0-9]+){2,}")
#: Four or more words joined by one bar, plus or tilde, no space between (``|how|do|I|make|``
#: read as a table row, ``how+do+I``: found in a fifth black-box pass, the model read the
#: joiners as noise); read with spaces.
#: One alternative per joiner, in RE2: Python's backtracking read a long word again from
#: each of its letters (1.1 s for 10,000 characters, quadratic), and RE2 has no
#: back-reference for "the same joiner". A word's first joiner decides which alternative
#: can match, so the matches are those of the one pattern with ``\1``.
_JOINED_WORD = r"[A-Za-z0-9'?!.,]+"
_JOINED = re2.compile("|".join(rf"{_JOINED_WORD}(?:{joiner}{_JOINED_WORD}){{3,}}"
                               for joiner in (r"\|", r"\+", "~")))
#: The joiners of a :data:`_JOINED` run (one kind in a run), read as spaces.
_JOINER = re.compile(r"[|+~]")
#: A word with three or more capitals (``buildPipeBombAtHome``, a camelCase or PascalCase
#: identifier, or prose written so); read split where it has three parts or more (see
#: :func:`_camel_parts`).
_CAMEL = re.compile(r"\b[a-z]*(?:[A-Z][a-z]*){3,}\b")
_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_FOLD_SIGNALS = frozenset({"homoglyphs", "compatibility_forms"})


def views(text: str, *, depth: int = 2, pair_chars: int = WINDOW_CHARS,
          run_on: tuple[int, int] = RUN_ON) -> list[View]:
    """Every view of ``text`` the model should score (see the module docstring); sentence
    pairs are read when they fit in ``pair_chars`` (0: never), run-on sentences in windows
    of ``run_on`` (words, step)."""
    clean = text.translate(_READ)
    if "_" in clean:
        clean = _SNAKE.sub(lambda m: m.group(0).replace("_", " "), clean)
    if "|" in clean or "+" in clean or "~" in clean:
        clean = _JOINED.sub(lambda m: _JOINER.sub(" ", m.group(0)), clean)
    reading = json_reading(clean)
    if reading is None and '"' in clean and "\n" in clean:
        reading = _json_lines(clean)
    # JSON is read as its words, not its syntax; its windows then stand for the whole text.
    # So is a text written in escapes, character references or quoted-printable, read as it
    # decodes: its raw form reads as noise that looks like an attack (a benign recipe in named
    # entities scored 0.94 harmful), and every word of it is in the decoded form.
    runs = decode_runs(clean)
    source = "text"
    if reading is None:
        source, reading = next(((s, plain) for s, plain, _, _ in runs
                                if s in WHOLE_TEXT_SOURCES), ("text", None))
    read = clean if reading is None else reading
    out = [View(read, 0, len(text), source)]
    if len(read) > WHOLE_CHARS:
        out += [View(read[a:b], *((a, b) if reading is None else (0, len(text))), "window")
                for a, b in sentence_windows(read, pair_chars=pair_chars, run_on=run_on)]
    normalized = normalize(text)
    leet, leet_words = _leet_read(normalized) if normalized.leet_folded else (None, 0)
    if normalized.signals & _FOLD_SIGNALS or (leet is not None and (
            "leetspeak" in normalized.signals or leet_words >= _LEET_WORDS)):
        folded = normalized.text if leet is None else _LEET_WORD.sub(
            lambda m: m.group(0).translate(_LEET), leet)
        # A line of Braille or look-alike letters inside prose is read folded in its own
        # windows (those that fold to the text's own are the same word pieces, read once);
        # not leetspeak read back, which turns code and arithmetic into words (its windows
        # flagged 139 of 1,703 benign development texts, 'arr1' read as 'arri').
        found = View(folded, 0, len(text), "folded")
        out += _windowed(found, pair_chars, run_on) if leet is None else [
            found, *(replace(w, apart=True)
                     for w in _windowed(View(leet, 0, len(text), "folded"),
                                        pair_chars, run_on)[1:]
                     if not looks_like_code(w.text))]
    for part in normalized.segments[1:]:
        if part.source in ("tags", "selectors"):
            out.append(View(part.text, 0, len(text), part.source))
    for kind, plain, start, end in runs:
        out.append(View(plain, start, end, kind))
        if depth > 1:
            out += [View(v.text, start, end, kind + "+" + v.source)
                    for v in views(plain, depth=depth - 1) if v.source not in ("text", "window")]
    camel = _CAMEL.sub(_camel_parts, read) if _CAMEL.search(read) else read
    if camel != read:
        out += _windowed(View(camel, 0, len(text), "camel"), pair_chars, run_on)
    out += _comments(clean, pair_chars, run_on)
    out += _quoted(clean, pair_chars, run_on)
    out += _fenced(clean)
    out += _list_words(clean)
    out += _json_words(clean)
    out += _numbered_words(clean)
    out += _csv_columns(clean)
    out += _hidden_language(clean, len(text), pair_chars, run_on)
    out += _hidden_in_parts(clean, pair_chars, run_on)
    return _unique(out)


#: The forms :func:`_hidden_in_parts` looks for in a long text's parts: those whose tests,
#: made on the whole text, prose drowns (the others find their runs where they stand). Rot13
#: and the rest tried a sentence at a time flagged benign code on development texts (70 of
#: 3,172 texts whose views changed read rot13 fragments). Respelling is tried a sentence at
#: a time (its test counts a share of the words); the others where they changed the text
#: (a run must read better than it was sent, :func:`_hidden_runs`).
_SENTENCE_FORMS = frozenset({"respelled"})
_RUN_FORMS = frozenset({"joined", "polybius", "keypad", "vowel-digits"})
#: Words between two turned words of one stretch (:func:`_runs_apart`).
_TURNED_GAP = 4
_SENTENCE_CHARS = 12
_RUN_WORDS, _RUN_GAP = 4, 2


def _hidden_in_parts(clean: str, pair_chars: int, run_on: tuple[int, int]) -> list[View]:
    """The forms of :data:`_SENTENCE_FORMS` and :data:`_RUN_FORMS` found in a part of a long
    text, read apart: inside prose a request misspelt, run together, in Polybius pairs or
    keypad presses, or with digits for vowels passed (a thirteenth black-box pass: each
    caught alone, none between prose, where it must read better than the whole text, or a
    share of all its words be misspelt). Read apart (:attr:`View.out_of_context`), they
    count after the window margin: without it 7 benign development texts of 1,736 whose views
    changed were flagged."""
    if len(clean) <= WHOLE_CHARS:
        return []
    out: list[View] = []
    for sentence in _SENTENCE.finditer(clean):
        said = sentence.group(0)
        if len(said.strip()) < _SENTENCE_CHARS or len(said) == len(clean):
            continue
        for source, form, better in _forms(said, apart=True):
            if source in _SENTENCE_FORMS and (candidate := form()) != said and englishness(
                    candidate) >= better:
                out += [replace(v, apart=True) for v in _windowed(
                    View(candidate, sentence.start(), sentence.end(), source), pair_chars,
                    run_on)]
    return out + _hidden_runs(clean)


def _says_something(sent: list[str], read: list[str]) -> bool:
    """Whether a stretch decoded from ``sent`` to ``read`` is words and not letters:
    ``_RUN_WORDS`` or more, two of the words it made words of the vocabulary of three letters
    or more (digits read as vowels turned code's ``[1, 2, 3]`` into ``[a, e, i]``, which reads
    as common words, beside ``console.log``)."""
    found = _LETTERS.findall(" ".join(read).lower())
    made = set(found) - set(_LETTERS.findall(" ".join(sent).lower()))
    vocabulary = embedder_words()
    return len(found) >= _RUN_WORDS and sum(len(w) >= 3 and w in vocabulary
                                            for w in made) >= 2


def _hidden_runs(clean: str) -> list[View]:
    """Each stretch a form of :data:`_RUN_FORMS` changed (stretches apart by ``_RUN_GAP``
    words or fewer taken together) that reads better than it was sent, read apart."""
    out: list[View] = []
    for source, form, _ in _forms(clean):
        if source in _RUN_FORMS and (candidate := form()) != clean:
            out += _changed_runs(clean, candidate, source)
    return out


def _changed_runs(clean: str, candidate: str, source: str, *, gap: int = _RUN_GAP,
                  gain: float | None = 0.2) -> list[View]:
    """Each stretch of ``clean`` that ``candidate`` (a form of it) changed, stretches apart by
    ``gap`` words or fewer taken together, that makes words (:func:`_says_something`) and
    reads better than it was sent (by ``gain`` of :func:`englishness` at least; ``None``: the
    form passed a test of its own): read apart, without the prose around it."""
    out: list[View] = []
    sent, read = clean.split(), candidate.split()
    stretches: list[list[int]] = []  # [start, end] in sent, then in read
    for tag, i, j, k, m in difflib.SequenceMatcher(None, sent, read,
                                                   autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if stretches and i - stretches[-1][1] <= gap:
            stretches[-1][1], stretches[-1][3] = j, m
        else:
            stretches.append([i, j, k, m])
    for i, j, k, m in stretches:
        if _says_something(sent[i:j], read[k:m]) and (gain is None or englishness(
                " ".join(read[k:m])) >= max(_READABLE, englishness(" ".join(sent[i:j])) + gain)):
            out.append(View(" ".join(read[k:m]), 0, len(clean), source, apart=True))
    return out


def _runs_apart(clean: str, candidate: str, source: str) -> list[View]:
    """In a long text, the stretches a form that keeps the text's layout (words or runs
    turned where they stand) changed, read apart (:func:`_changed_runs`): run into prose with
    no stop between, a turned request was read only in a run-on window with six prose words,
    0.29 (a thirteenth black-box pass), and 0.96 alone. The form passed tests of its own (a
    request's turned words are its rarer ones, so it need not read commoner), and the turned
    words of one request may stand :data:`_TURNED_GAP` words apart (``Wonk I would to
    dliub``)."""
    return _changed_runs(clean, candidate, source, gap=_TURNED_GAP, gain=None) \
        if len(clean) > WHOLE_CHARS else []


#: View sources that stand for a payload hidden in the text rather than the text itself.
HIDDEN_SOURCES = frozenset({"base64", "base32", "base58", "hex", "tags", "selectors", "url",
                            "rot13", "rot47", "caesar", "interleaved", "turned",
                            "a1z26", "a0z25", "z1a26", "reversed", "word-order",
                            "spaced", "joined", "split", "escapes", "entities",
                            "quoted-printable", "binary", "decimal", "octal", "morse",
                            "nato", "punycode", "ascii85", "base85", "uuencode",
                            "upside-down", "pig-latin", "blanks", "concatenated", "cued",
                            "unscrambled", "keyboard"})


def hidden_payloads(text: str) -> list[str]:
    """What ``text`` hides, decoded once: base64, hex, Unicode tag characters, URL-encoding,
    and reversed, rot13 or letter-spaced forms that read better than the text (the
    classifier's own decoders; nothing when the text hides nothing)."""
    return [v.text for v in views(text, depth=1) if v.source in HIDDEN_SOURCES]


def plain_forms(text: str, *, mend: bool = True) -> tuple[list[str], bool]:
    """The rot13, reversed, letter-spaced and leetspeak forms of ``text`` that read as
    English where the text does not, by the test :func:`_hidden_language` puts them to (a
    leetspeak form: 0.2 more englishness than the text's own, as rot13's), and whether they
    stand in for the text (they do: it was a disguise). Without such a form, the text
    respelled and unscrambled (Best-of-N noise: random capitals, shuffled and nudged letters;
    each mending passes a test of its own, as in :func:`_forms`), to be read beside it: a
    mended word may be a rare word misread ('carding'). For a tier that reads words but
    cannot afford :func:`views` on every text (the static heads), and asks only of a text
    that reads as noise to it. ``mend=False``: decodings only (no mended forms)."""
    clean = text.translate(_READ)
    gain = max(_READABLE, englishness(clean) + 0.2)
    unspaced = _unspace(clean)
    forms = ((rot13(clean), gain), (clean[::-1], gain),
             (_tidy(_unleet(unspaced)) if unspaced != clean else clean,
              0.0 if _letters_apart(clean) else _READABLE),
             (_leet_left(leet) if (leet := _unleet(clean)) != clean else clean, gain))
    found = [form for form, better in forms if form != clean and englishness(form) >= better]
    if found:  # a decoding that reads: mending its noise would only add misreadings
        return found, True
    if not mend:
        return [], False
    mended = (_respell(clean.lower() if _case_noise(clean) else clean), _unscramble(clean))
    return [form for form in mended if form != clean], False


def _forms(clean: str, *, apart: bool = False) -> tuple[tuple[str, Callable[[], str], float],
                                                        ...]:
    """The decoded or re-read forms :func:`_hidden_language` tries, each as its source, a
    function that makes it (``clean`` itself when there is nothing to decode) and the
    englishness it must reach to be read; ``apart``: ``clean`` is one sentence of a longer
    text (:func:`_hidden_in_parts`)."""
    # What a form's englishness must reach to be read: nothing when it passed a test of its
    # own; _READABLE where the text has no English of its own to improve on (letters spelled
    # out one by one read as the words "a" and "i"; a word split in two, "pi pe", takes no
    # common word away from the text around it); else 0.2 more than the text's own.
    own, readable, gain = 0.0, _READABLE, max(_READABLE, englishness(clean) + 0.2)
    coded = _coded_digits(clean)  # one cheap test says whether either may hold a run

    def spaced() -> str:
        return _unleet(unspaced) if (unspaced := _unspace(clean)) != clean else clean

    return (("reversed", lambda: clean[::-1], gain),
            ("rot13", lambda: rot13(clean), gain),
            ("rot47", lambda: _rot47_runs(clean), own),
            ("pig-latin", lambda: _pig_latin_runs(clean), own),
            ("blanks", lambda: _fill_blanks(clean), own),
            ("cued", lambda: _cued_words(clean), own),
            ("unscrambled", lambda: _unscramble(clean), own),
            ("concatenated", lambda: _concatenate(clean), own),
            ("interleaved", lambda: _drop_interleaved(clean), own),
            ("alternate", lambda: _every_other(clean), own),
            ("respelled", lambda: _respell(
                clean, _RESPELL_APART if apart and not _case_noise(clean) else None), own),
            ("unwrapped", lambda: _unwrap(clean), own),
            ("leet", lambda: _heavy_leet(clean), readable),
            ("number-words", lambda: _number_words(clean), readable),
            ("substituted", lambda: _substitute(clean), own),
            ("first-letters", lambda: _first_letters(clean), own),
            ("upside-down", lambda: _upside_down(clean), own),
            ("polybius", lambda: _polybius(clean) if coded else clean, gain),
            ("keypad", lambda: _keypad(clean) if coded else clean, gain),
            ("vowel-digits", lambda: _vowel_digits(clean), gain),
            ("spaced", spaced, readable),
            ("joined", lambda: _unjoin(clean), gain),
            ("split", lambda: _unsplit(clean), readable))


def _hidden_language(clean: str, length: int, pair_chars: int,
                     run_on: tuple[int, int]) -> list[View]:
    """URL-encoded, reversed, rot13, rot47, letter-spaced, interleaved (a filler word between
    every two words dropped), respelled and the other decoded or re-read forms of the loop
    below that read better than the text (or pass a test of their own), words in reverse
    order put back, and a stretch in a Caesar cipher read back; a long one also in windows
    (:func:`_windowed`)."""
    out = [View(plain, start, end, "url") for start, end, plain in url_runs(clean, 3)]
    lowered = {w.lower() for w in _LETTERS.findall(clean)}  # the words, for the two below
    for source, form, better in _forms(clean):
        candidate = form()
        if candidate != clean and englishness(candidate) >= better:
            out += _windowed(View(candidate, 0, length, source), pair_chars, run_on,
                             aligned=source in ("rot13", "rot47"))
        elif source == "reversed" and (
                (turned := _reverse_runs(clean, lowered)) != clean
                or (turned := _reverse_clauses(clean)) != clean):
            # each run or clause passed a test of its own, and stands where it was sent
            out += _windowed(View(turned, 0, length, source), pair_chars, run_on,
                             aligned=True) + _runs_apart(clean, turned, source)
    if (turned := _turn_words(clean, lowered)) != clean and englishness(turned) > englishness(
            clean[::-1]):  # some words sent backwards, not all: the whole reversal reads worse
        out += _windowed(View(turned, 0, length, "turned"), pair_chars, run_on,
                         aligned=True) + _runs_apart(clean, turned, "turned")
    if (ordered := _reverse_word_order(line := _one_line(clean))) != line:
        out += _windowed(View(ordered, 0, length, "word-order"), pair_chars, run_on)
    # the distinct words of three letters or more the vocabulary lacks, for the two below
    unknown = {w for w in lowered if len(w) > 2}.difference(embedder_words())
    if (unshifted := _unshift(clean, unknown)) != clean:
        out += _windowed(View(unshifted, 0, length, "caesar"), pair_chars, run_on, aligned=True)
    if (unkeyed := _unkey(clean, unknown)) != clean:
        out += _windowed(View(unkeyed, 0, length, "keyboard"), pair_chars, run_on, aligned=True)
    return out


def _camel_parts(match: re.Match[str]) -> str:
    """The word split at its humps when that makes three parts or more (a hashtag such as
    ``KillThemAll`` says something in three); else as written. The capitals of an acronym
    are no parts: counted as parts, ``ChatGPT`` and ``OpenAI`` made 94 of 2,801 real chatbot
    prompts be read a second time whole (as ``Chat GPT``, ``Open AI``); 19 are now."""
    parts = _HUMP.sub(" ", match.group(0))
    return parts if parts.count(" ") >= 2 else match.group(0)
