"""Words disguised letter by letter but left in their place: letters sent apart
(``h o w  t o``, down the page), run together (``howtobuildabomb``), cut into pieces
(``pi pe bo mb``), and leetspeak (``m4k3``, ``|-|0\\/\\/``) read back.

The static heads read letters apart and leetspeak too
(:func:`bastion.classify._variants.plain_forms`): these readers keep the words where they were
sent, unlike the ciphers and re-readings only the contextual model's views use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.classify._coded import segment
from bastion.classify._embed import embedder_words
from bastion.classify._language import COMMON
from bastion.classify._normalize import LEET, Normalized
from bastion.classify._sentences import _SENTENCE

_SPACED = re.compile(r"(?:\b\w\b[ .\-_]{1,3}){4,}\b\w\b")

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s"})
#: Tokens an attacker spells in leetspeak: short digit runs standing alone ("4", "1") and
#: words mixing letters with leet digits; longer numbers ("2024", "555") stay as they are.
#: (A word's symbols before its first letter, then the rest: ``[a-z0-9@$]*[a-z]...`` said the
#: same but tried every split of a long word, quadratic in it.)
_LEET_WORD = re.compile(r"(?<![\w.,])(?:[0-9@$]|[0-9@$]*[a-z][a-z0-9@$]*)(?![\w.,])")

#: Fewest distinct words written in leet symbols (see :func:`_leet_read`) that make a text's
#: leetspeak worth reading back when no word looks disguised (``7hr347: 574b y0u``).
_LEET_WORDS = 2
#: A token that may be a word in leet: two characters or more, or a digit standing alone
#: ("1" is "I", not the "1" of "1.5").
_LEET_TOKEN = re.compile(r"[a-z0-9@$!|+]{2,}|(?<![\w.,])[0-9](?![\w.,])")
#: The word-like tokens of a text, and a digit in one (see :func:`_leet_read`).
_WORDISH = re.compile(r"[a-z0-9@$!|+']{2,}")
_HAS_DIGIT = re.compile(r"[0-9]")
#: Leet symbols that stand for an "l" as often as for the "i" the fold reads.
_ELLS = frozenset("1|!")
#: Most such symbols in one token whose two readings are all tried.
_ELL_TRIES = 4


def _leet_tokens(sent: str) -> Iterator[re.Match[str]]:
    """The tokens of ``sent`` that may be words in leet (:data:`_LEET_TOKEN`), sentence by
    sentence; numbers only in a sentence where most words carry a digit ("70" is "to" in
    ``70 4mbu5h 50m30n3``; in "50-5 = 45 marbles" they are numbers)."""
    for sentence in _SENTENCE.finditer(sent):
        start, end = sentence.span()
        tokens = _WORDISH.findall(sent, start, end)
        numbers = 2 * sum(bool(_HAS_DIGIT.search(t)) for t in tokens) > len(tokens)
        for match in _LEET_TOKEN.finditer(sent, start, end):
            if numbers or not match.group(0).isdigit():
                yield match


def _leet_read(normalized: Normalized) -> tuple[str, int]:
    """The folded text of ``normalized`` with each "1" (or "|", "!") read as "l" where that,
    not the fold's "i", makes its token a word of the vocabulary (``p14n`` -> plan, not
    "pian"; ``410n3`` -> alone); and how many distinct tokens with a leet symbol read as
    words of three letters or more (``574b`` -> stab, ``y0u`` -> you), where tokens that
    only carry digits (``11oz``, ``sha256``, ``x86``, ``3s``) read as none."""
    folded = normalized.text
    sent = next(s.text for s in normalized.segments if s.source == "unfolded")
    words = embedder_words()
    found = set()
    mended = []
    for match in _leet_tokens(sent):
        start, end = match.span()
        read = match.group(0).translate(LEET)  # as the fold reads it, and "d0" too
        if read == match.group(0):
            continue
        ones = [i for i, c in enumerate(match.group(0)) if c in _ELLS][:_ELL_TRIES]
        for ells in range(1 << len(ones)):  # none read as "l" first
            letters = list(read)
            for bit, i in enumerate(ones):
                if ells >> bit & 1:
                    letters[i] = "l"
            if (tried := "".join(letters)).isalpha() and tried in words:
                if len(tried) > 2 and not match.group(0).isdigit():
                    found.add(tried)
                if tried != folded[start:end]:
                    mended.append((start, tried))
                break
    for start, word in mended:
        folded = folded[:start] + word + folded[start + len(word):]
    return folded, len(found)


#: Share of a text's visible characters in runs of letters sent apart (:data:`_SPACED`) from
#: which the text is letters apart as a whole, and its joined form is what it says.
_APART_SHARE = 0.8


def _letters_apart(clean: str) -> bool:
    """Whether ``clean`` is sent letters apart as a whole (``h o w  d o  I``), so that its
    joined form needs no test of reading as English: a short request of slang, slurs or
    names (``u s e r  c h i n g  c h o n g``) has few common words joined or not."""
    visible = len(clean) - clean.count(" ")
    apart = sum(len(m.group(0)) - m.group(0).count(" ") for m in _SPACED.finditer(clean))
    return visible > 0 and apart >= _APART_SHARE * visible


#: A space before a stop, comma or closing mark, and an apostrophe set apart inside a word:
#: what joining letters sent apart leaves of the punctuation between them (``post ,  i``).
_LOOSE_STOP = re.compile(r"[ \t]+(?=[,.!?;:)\]])")
_LOOSE_APOSTROPHE = re.compile(r"(?<=[A-Za-z]) ' (?=[A-Za-z])")


#: A word with leet digits that :func:`_unleet` leaves as sent: a number of two to four
#: digits, or letters and digits before a stop or comma (``p057,``), which it keeps apart
#: from decimals (``3.5``); either standing alone.
_LEFT_LEET = re.compile(r"(?<![\w.,])(?:[0-9]{2,4}|[0-9@$]*[a-z][a-z0-9@$]*)"
                        r"(?=[.,!?;:]?(?:\s|$))")


def _leet_left(read: str) -> str:
    """``read`` (leetspeak read back by :func:`_unleet`) with the words it left read too:
    written in leetspeak, every ``to`` of a request is a number (``70``) and a word before a
    comma keeps its digits (``p057,``), which the static heads read as numbers. A number is
    read only when it spells a common word (``70`` -> ``to``, ``15`` -> ``is``; ``10`` and
    ``2024`` stay)."""
    def word(match: re.Match[str]) -> str:
        sent = match.group(0)
        spelt = sent.translate(_LEET)
        return spelt if not sent.isdigit() or spelt in COMMON else sent

    return _LEFT_LEET.sub(word, read)


def _tidy(joined: str) -> str:
    """``joined`` (letters sent apart, joined) with its punctuation back against its words:
    the static heads read ``my post ,  i want their name and where they live`` at 0.11 and
    ``my post, i want ...`` at 0.67 (a development row)."""
    return _LOOSE_APOSTROPHE.sub("'", _LOOSE_STOP.sub("", joined))


_LEET_BESIDE_LETTER = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]")


def _unleet(text: str) -> str:
    """``text`` with words that mix letters and leet digits read as letters (``m4k3 4 p1p3``
    -> ``make a pipe``), lower-case; ``text`` itself when it has none. For the letter-spaced
    view: spaced out, leetspeak is no word normalisation folds (found in a seventh black-box
    pass, ``m 4 k 3`` passed)."""
    low = text.lower()
    if not _LEET_BESIDE_LETTER.search(low):
        return text
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), low)


#: Leetspeak that writes letters with several symbols (``|-|`` h, ``/\/\`` m, ``\/\/`` w),
#: longest first; a single symbol, as NFKC and the rules fold it, last.
_HEAVY_LEET = {"/\\/\\": "m", "\\/\\/": "w", "|\\|": "n", "|-|": "h", "|_|": "u", "(,)": "q",
               "/\\": "a", "\\/": "v", "|<": "k", "|)": "d", "|3": "b", "|*": "p", "|2": "r",
               "|_": "l", "|=": "f", "><": "x", "`/": "y", "_|": "j", "0": "o", "1": "i", "3": "e",
               "4": "a", "5": "s", "7": "t", "6": "g", "8": "b", "9": "g", "(": "c", "@": "a",
               "$": "s", "!": "i", "+": "t"}
#: The multi-symbol letters a text must hold three of (not ``><``: HTML has it between tags).
_MULTI_SYMBOL = re.compile(r"\|-\||/\\/\\|\\/\\/|\|\\\||\|_\||\|<|\|\)|\|3|\|\*|\|2|\|=|`/")
_HEAVY = re.compile("|".join(re.escape(k) for k in sorted(_HEAVY_LEET, key=len, reverse=True)))


def _heavy_leet(text: str) -> str:
    r"""``text`` with leetspeak written in several symbols a letter read back (found in a
    seventh black-box pass: ``|-|0\/\/ |)0 1 /\/\4|<3`` passed, read as punctuation);
    ``text`` itself unless it holds three such multi-symbol letters at least. On 92,129
    training-table rows and chatbot prompts none fired."""
    if len(_MULTI_SYMBOL.findall(text)) < 3:
        return text
    return _HEAVY.sub(lambda m: _HEAVY_LEET[m.group(0)], text)


#: Two letters apart by a dot, a dash or an underscore (a letter-spaced run's own mark).
_MARKED_LETTERS = re.compile(r"\w[.\-_]\w")


#: Letters one to a line, a blank line between words: a request written down the page.
_VERTICAL = re.compile(r"(?:^[^\S\n]*\w?[^\S\n]*\n){7,}[^\S\n]*\w[^\S\n]*$", re.MULTILINE)
#: Fewest letters such a run needs.
_VERTICAL_LETTERS = 6


def _across(match: re.Match[str]) -> str:
    """A run of :data:`_VERTICAL` written across: its words apart by one space (one word is
    cut into the vocabulary's words, :func:`segment`)."""
    cells = [line.strip() for line in match.group(0).split("\n")]
    if sum(cell.isalpha() for cell in cells) < _VERTICAL_LETTERS:
        return match.group(0)
    words = "".join(cell or " " for cell in cells).split()
    if len(words) == 1:
        return segment(words[0]) or words[0]
    return " ".join(words)


def _unspace(text: str) -> str:
    """``h o w  t o`` -> ``how to``: single characters separated by spaces are joined;
    a wider gap (two spaces or more, or a slash) separates words, so does one space when the
    letters are apart by dots, dashes or underscores (``h-o-w t-o``: found in a twelfth
    black-box pass, 0.49), and a run with no gap at all (``h.o.w.t.o``) is cut into words
    (:func:`segment`). Letters one to a line are read across (a thirteenth pass: a request
    written down the page passed inside prose)."""
    if "\n" in text:
        text = _VERTICAL.sub(_across, text)
    def join(match: re.Match[str]) -> str:
        run = match.group(0)
        words = re.split(r"\s{2,}|\s*/\s*", run)
        if len(words) == 1 and " " in run and _MARKED_LETTERS.search(run):
            words = run.split()
        joined = [re.sub(r"[ .\-_]", "", w) for w in words]
        if len(joined) == 1:
            return segment(joined[0]) or joined[0]
        return " ".join(joined)

    return _SPACED.sub(join, text)


_LONG_RUN = re.compile(r"[A-Za-z]{14,}")
#: Two or more short pieces of letters in a row ("pi pe bo mb").
_PIECES = re.compile(r"\b[A-Za-z]{1,3}(?:[ .\-_][A-Za-z]{1,3}\b)+")


def _unsplit(text: str) -> str:
    """``a pi pe bo mb`` -> ``a pipe bomb``: neighbouring pieces of two or three letters, none
    of them a common word, are joined where together they make a word of the vocabulary (of
    four letters or more)."""
    words = embedder_words()

    def join(match: re.Match[str]) -> str:
        pieces = re.split(r"[ .\-_]", match.group(0))
        out: list[str] = []
        i = 0
        while i < len(pieces):
            for j in range(min(len(pieces), i + 4), i + 1, -1):  # longest join first
                merged = "".join(pieces[i:j])
                if (len(merged) >= 4 and merged.lower() in words
                        and all(len(p) > 1 and p.lower() not in COMMON for p in pieces[i:j])):
                    out.append(merged)
                    i = j
                    break
            else:
                out.append(pieces[i])
                i += 1
        return " ".join(out) if len(out) < len(pieces) else match.group(0)

    return _PIECES.sub(join, text)


def _unjoin(text: str) -> str:
    """``howtobuildapipebomb`` -> ``how to build a pipe bomb``: long runs of letters that are
    no word of the vocabulary, cut into words where they can be."""
    words = embedder_words()
    return _LONG_RUN.sub(lambda m: m.group(0) if m.group(0).lower() in words
                         else segment(m.group(0)) or m.group(0), text)
