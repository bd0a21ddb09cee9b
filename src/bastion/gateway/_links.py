"""Links read as the words they carry, and markdown and HTML links as the text a client shows.

A link's path, query and fragment can carry a sentence (``/how%20to%20build``,
``?q=how+to+build``, ``/how/to/build``) that no check reads as words: the keyword rules
match words apart by characters that are not letters or digits, not by ``%20``, and only
the contextual model's own views decode URL-encoding. Markdown links put an address
between words a client shows side by side (``a [pipe](https://a.b) [bomb](https://c.d)``
reads 'a pipe bomb'). A black-box pass (issue 8) had all of these through the keyword tier,
in an answer's content, in its citations' links, and one word a citation. So the gateway reads
a text with markdown links as they show and the words of its links after it
(:func:`read_links`), and the links an answer cites, one after another, as one more text
(:func:`link_words`, ``_buffers.LINKS``).
"""

from __future__ import annotations

import re
import urllib.parse

from bastion.classify._normalize import url_decoded, url_runs

#: A link: a scheme and ``//`` (``https://``, ``ftp://``), or ``www.``; it ends at a space, a
#: quote, an angle bracket or a backtick.
_LINK = re.compile(r"(?i)(?<![\w.+-])(?:[a-z][a-z0-9+.-]{0,15}://|www\.)[^\s<>\"'`]+")
#: A markdown link or picture, inline (``[text](url "title")``, ``![alt](<url>)``), or by
#: reference (``[text][ref]``); not after a word or a bracket (``matrix[i](x)``,
#: ``table[a][b]`` are code). Groups: the text shown, the inline title, the reference.
_MARKDOWN = re.compile(
    r"(?<![\w\])])!?\[([^\[\]\n]{0,500})\](?:\(\s*<?[^\s()<>]{0,2000}>?"
    r"(?:\s+(?:\"([^\"\n]{0,500})\"|'([^'\n]{0,500})'|\(([^()\n]{0,500})\)))?\s*\)"
    r"|\[([^\[\]\n]{0,100})\])")
#: An HTML link (``<a href="https://a.b">pipe</a>``): shown as its text, as a client that
#: renders HTML shows it.
_ANCHOR = re.compile(r"(?is)<a\b[^<>]{0,2000}>"
                     r"([^<]{0,500}(?:<(?!/?a\b)[^<>]{0,200}>[^<]{0,500}){0,8})</a\s*>")
#: A tag inside an HTML link's text (``<b>``, ``</i>``): shown as nothing.
_TAG = re.compile(r"<[^<>]{0,200}>")
#: A reference's definition: ``[ref]: https://...`` on a line of its own.
_DEFINED = re.compile(r"(?m)^[ \t]{0,3}\[([^\[\]\n]{1,100})\]:[ \t]*\S")
#: Letters and digits of any script: the words of a decoded link.
_WORD = re.compile(r"[^\W_]+")
#: The longest word read: a longer run of letters is an id or a token, no word.
_WORD_CHARS = 24
#: Fewest escapes in a run of URL-encoded text outside a link whose words are read
#: (``how%20to%20build%20a``); the keyword rules read a text with any escape decoded too.
_ENCODED_ESCAPES = 2


def _words(text: str) -> list[str]:
    """The words of ``text`` URL-decoded (see :func:`_plain_words`)."""
    return _plain_words(url_decoded(text))


def _plain_words(text: str) -> list[str]:
    """The words of ``text``: runs of letters, not ids, numbers or tokens
    (``psig=AOvVaw0hDRoYu8n``, ``ust=1680949752899000``: a search engine's redirect link read
    with its ids made a benign request read as an injection to the contextual model)."""
    return [word for word in _WORD.findall(text)
            if len(word) <= _WORD_CHARS and not any(char.isdigit() for char in word)]


def link_words(link: str, *, host: bool = False) -> str:
    """The words a link carries after its host, decoded: its path, the values of its query
    (a key only where it has no value) and its fragment (``https://ex.com/s?q=how+to+build``
    -> ``s how to build``). Query keys are left out: read with a redirect link's other keys
    (``sa``, ``psig``, ``ust``, ``cd``, ``ved``), they made a benign request read as an
    injection to the contextual model. With ``host``, the host's name when nothing follows it
    (``https://www.pipe.com`` -> ``pipe``: a citation's link names its page by either; not
    when what follows holds no word, ``/s0``)."""
    link = link.strip()
    try:
        parts = urllib.parse.urlsplit(link if "://" in link else f"http://{link}")
    except ValueError:  # a malformed address ("http://[x"): read as one run
        return " ".join(_words(link))
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    words = [*_words(parts.path), *(word for key, value in query
                                    for word in _words(value or key)),
             *_words(parts.fragment)]
    if words or not host or parts.path.strip("/") or parts.query or parts.fragment:
        return " ".join(words)
    labels = _words(parts.hostname or "")
    labels = labels[1:] if labels[:1] == ["www"] else labels
    return " ".join(labels[:-1] if len(labels) > 1 else labels)


def is_link(text: str) -> bool:
    """Whether ``text`` is one link and nothing else (a citation's ``url``)."""
    match = _LINK.fullmatch(text.strip())
    return match is not None


def _shown(text: str) -> tuple[str, list[str]]:
    """``text`` with its markdown and HTML links and its markdown pictures as the text a
    client shows (a reference link only where its reference is defined), and their titles
    (tooltips, shown apart)."""
    defined = {ref.strip().lower() for ref in _DEFINED.findall(text)}
    titles: list[str] = []

    def shown(match: re.Match[str]) -> str:
        ref = match.group(5)
        if ref is not None and (ref or match.group(1)).strip().lower() not in defined:
            return match.group(0)
        titles.extend(t for t in match.group(2, 3, 4) if t)
        return match.group(1)

    text = _ANCHOR.sub(lambda m: _TAG.sub("", m.group(1)), text) if "</" in text else text
    return _MARKDOWN.sub(shown, text), titles


def read_links(text: str) -> str:
    """``text`` as a client shows it, markdown links as their text, and on a line after it
    the words its links and URL-encoded runs carry (see the module); ``text`` itself when it
    holds neither."""
    shown, words = _shown(text) if "](" in text or "][" in text or "</" in text \
        else (text, [])
    if "://" not in text and "www." not in text and "%" not in text and not words:
        return shown
    words += [link_words(m.group(0)) for m in _LINK.finditer(text)]
    words += [" ".join(_plain_words(plain))
              for _, _, plain in url_runs(_LINK.sub(" ", text), _ENCODED_ESCAPES)]
    said = " ".join(w for w in words if w)
    return f"{shown}\n{said}" if said else shown
