"""PII and secret detectors: a small, tested set with checksums where formats have them.

Why not Presidio: its analyzer imports spaCy at start-up (about 18 s on this 2-core machine)
and its e-mail recogniser fetches the public-suffix list over the network, so it cannot run
in an offline gateway. We reuse the same approach — patterns plus validators — with
``phonenumbers`` (libphonenumber) for phone numbers, Luhn for cards, ISO 7064 mod-97 for
IBANs and the SSA's issued ranges for social security numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata

from bastion._urls import credential_spans
from bastion.redact._entity import Entity
from bastion.redact._numbers import (
    cards,
    ibans,
    lettered_cards,
    spelled_cards,
    spelled_numbers,
    spelled_ssns,
    ssns,
)

# The at sign as typed, full-width (U+FF20), small (U+FE6B), or a look-alike (a circled,
# parenthesised or squared a), or escaped (URL-encoded, twice too; HTML; quoted-printable; a
# backslash escape).
_AT = (r"(?:[@\uff20\ufe6b\u24d0\u249c\U0001f150]|%(?:25)*40|%u0040|&#0*64;?|&#[xX]0*40;?"
       r"|&#65312;|&#[xX]ff20;|&commat;|=(?:3D)?40|\\x40|\\u0040|\\100)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}" + _AT + r"[A-Za-z0-9-]{1,63}"
                    r"(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
# Addresses written to dodge harvesters: "jane [at] example [dot] com", "jane(at)example.com",
# "jane at example dot com", "jane@example[.]com". A bracketed "at" is enough; a bare " at "
# or "@" needs a spelled or bracketed dot too (else ordinary "look at docs.python.org" would
# match, and a plain address is _EMAIL's).
_OBFUSCATED_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+)"
_OBFUSCATED_EMAIL = re.compile(
    r"(?i)(?<![\w.+-])[\w.+-]{1,64}"
    r"(?:(?P<bracket>\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*)|\s+at\s+|\s*" + _AT + r"\s*)"
    rf"[a-z0-9-]{{1,63}}(?:(?:\.|{_OBFUSCATED_DOT})[a-z0-9-]{{1,63}}){{0,8}}"
    rf"(?:\.|{_OBFUSCATED_DOT})[a-z]{{2,24}}\b")
_SPELLED_DOT = re.compile(_OBFUSCATED_DOT, re.IGNORECASE)
# A key block without its END line (a truncated paste, a stream still arriving) is masked to
# the end of the text: never let half a private key through.
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?:[\s\S]*?"
                          r"-----END (?:[A-Z]+ )?PRIVATE KEY-----|[\s\S]*\Z)")
_SECRET = re.compile(
    r"\b(?:sk-(?:proj-)?[A-Za-z0-9_-]{20,}"      # OpenAI-style keys
    r"|bst-[A-Za-z0-9_-]{30,}"                   # Bastion keys
    r"|gh[pousr]_[A-Za-z0-9]{30,}"               # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{40,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"             # Slack tokens
    r"|AKIA[0-9A-Z]{16}"                         # AWS access key ids
    r"|AIza[0-9A-Za-z_-]{35}"                    # Google API keys
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"     # Stripe secret and restricted keys
    r"|whsec_[A-Za-z0-9]{20,}"                   # Stripe webhook secrets
    r"|gl[a-z]{2,5}-[A-Za-z0-9_-]{20,}"          # GitLab tokens (glpat-, gldt-, glrt-...)
    r"|hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,}"  # Hugging Face tokens
    r"|npm_[A-Za-z0-9]{36}"                      # npm tokens
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"  # JWTs
)
# The value given to a setting whose name says it is secret ("password=hunter2",
# "aws_secret_access_key = wJal...", 'api_key: "..."', a JSON-escaped '\\"password\\": ...'):
# the value is masked, the name kept. A quoted value is taken whole (a passphrase has
# spaces); an unquoted one must end where a value ends, so code that names a setting
# (password=os.environ['X'], hash_password(...), Optional[str], ${VAR}) is left alone.
_SECRET_NAME = (r"(?i)(?<![\w-])_?(?:[a-z0-9]+[_-])*(?:password|passwd|pwd|passphrase|secret"  # noqa: S105 - a pattern
                r"|secret[_-]?key|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret"
                r"|auth[_-]?token|access[_-]?token|refresh[_-]?token|token)(?![\w-])"
                r"(?:\\?[\"'])?\s*(?<![=!<>])[:=](?!=)\s*")
_ASSIGNED_QUOTED = re.compile(_SECRET_NAME + r"(?P<esc>\\?)(?P<q>[\"'])"
                              r"(?P<value>[^\"'\\\n]{4,200})(?P=esc)(?P=q)")
_ASSIGNED = re.compile(_SECRET_NAME + r"(?P<value>[^\s\"'`,;&()\[\]{}<>$\\]{6,200})"
                       r"(?=[\s\"'`,;&)\]}<>\\]|$)")
_CODE_VALUE = re.compile(r"(?i)(?:none|null|nil|true|false|undefined|"
                         r"[a-z_]\w*(?:\.[a-z_]\w*)+)")
_BEARER = re.compile(r"(?i)\bbearer\s+(?P<value>[A-Za-z0-9._~+/=-]{16,})")


def _emails(text: str) -> Iterator[Entity]:
    # A URL's token or password before its host (https://TOKEN@host) reads as an address too;
    # it is a SECRET (_secrets), and the host is no part of it.
    inside = [range(*span) for span in credential_spans(text)] if "://" in text else []
    for m in _EMAIL.finditer(text):
        if not any(m.start() in span for span in inside):
            yield Entity("EMAIL", m.start(), m.end())
    for m in _OBFUSCATED_EMAIL.finditer(text):
        if (m.group("bracket") or _SPELLED_DOT.search(m.group())) \
                and not any(m.start() in span for span in inside):
            yield Entity("EMAIL", m.start(), m.end())


def _secrets(text: str) -> Iterator[Entity]:
    for m in _PRIVATE_KEY.finditer(text):
        yield Entity("PRIVATE_KEY", m.start(), m.end())
    for m in _SECRET.finditer(text):
        yield Entity("SECRET", m.start(), m.end())
    for pattern in (_ASSIGNED_QUOTED, _ASSIGNED, _BEARER):
        for m in pattern.finditer(text):
            if pattern is _ASSIGNED and _CODE_VALUE.fullmatch(m.group("value")):
                continue  # a name in code (settings.password, None), not a value
            yield Entity("SECRET", m.start("value"), m.end("value"))
    # a URL's password or token (postgres://user:PASSWORD@host, https://TOKEN@host)
    for start, end in credential_spans(text):
        yield Entity("SECRET", start, end)


def _phones(text: str, region: str | None) -> Iterator[Entity]:
    if region is not None:
        yield from _spelled_phones(text, region)
    if len(_DIGIT.findall(text)) < fewest_phone_digits(region):
        return  # too few digits for any valid number: skip libphonenumber's slow scan
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        yield Entity("PHONE", match.start, match.end)


def _spelled_phones(text: str, region: str) -> Iterator[Entity]:
    """Phone numbers of ``region`` read out digit by digit ("four one five, five five five,
    ..."), found in a black-box pass: spelled card numbers were masked, spelled phones not."""
    for m, digits in spelled_numbers(text, 7, 15):
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield Entity("PHONE", m.start(), m.end())


_DIGIT = re.compile(r"\d")  # any script's digits, as libphonenumber reads them


@cache
def fewest_phone_digits(region: str | None) -> int:
    """The fewest digits a valid phone number can have, from libphonenumber's metadata: an
    international number (country code and the shortest national number of any region) or
    a national number of ``region``."""
    def shortest(metadata: PhoneMetadata | None) -> int | None:
        lengths = [n for n in metadata.general_desc.possible_length if n > 0] \
            if metadata is not None and metadata.general_desc is not None else []
        return min(lengths) if lengths else None

    fewest = 99
    for code in phonenumbers.SUPPORTED_REGIONS:
        metadata = PhoneMetadata.metadata_for_region(code)
        if metadata is not None and (length := shortest(metadata)) is not None:
            fewest = min(fewest, len(str(metadata.country_code)) + length)
    for calling_code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        length = shortest(PhoneMetadata.metadata_for_nongeo_region(calling_code))
        if length is not None:
            fewest = min(fewest, len(str(calling_code)) + length)
    national = shortest(PhoneMetadata.metadata_for_region(region)) if region else None
    return min(fewest, national) if national is not None else fewest


Detector = Callable[[str], Iterator[Entity]]

#: Characters that hide a value from a pattern without changing what it reads as: zero-width
#: and other invisible characters (dropped) and full-width forms of ASCII (folded).
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_HIDING = re.compile(f"[{_INVISIBLE}\uff01-\uff5e\u3002\uff61]|[0-9][OolI][0-9]")
_DROP = re.compile(f"[{_INVISIBLE}]")
_FOLD: dict[int, str] = {**{code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
                         0x3002: ".", 0xFF61: "."}  # ideographic full stops, as in a domain
#: Letters standing for digits inside a number ("415 555 26O1", "4l5-555-2671").
_LETTER_DIGIT = re.compile(r"(?<=[0-9])[OolI](?=[0-9])")


def _unhidden(text: str) -> tuple[str, list[int]]:
    """``text`` with invisible characters dropped, full-width forms and ideographic full stops
    folded, and letters that stand for digits inside numbers read as digits, and where each
    character of it stands in ``text`` (one more entry: ``len(text)``)."""
    offsets = [i for i, char in enumerate(text) if not _DROP.match(char)]
    clean = "".join(text[i] for i in offsets).translate(_FOLD)
    clean = _LETTER_DIGIT.sub(lambda m: "0" if m.group() in "Oo" else "1", clean)
    return clean, [*offsets, len(text)]


class Detectors:
    """The detector set; finds entities and merges overlapping ones.

    Overlapping entities become one, spanning all of them, of the longest one's kind: every
    character any detector reports is masked (dropping the shorter one would leave its part
    outside the longer one in clear).

    Args:
        phone_region: ISO region for national phone formats (``"US"``, ``"GB"``); ``None``
            finds international (``+...``) numbers only.
    """

    def __init__(self, phone_region: str | None = "US") -> None:
        self.phone_region = phone_region
        self.detectors: list[Detector] = [_secrets, _emails, ibans, cards, lettered_cards,
                                          spelled_cards, ssns, spelled_ssns, self._phones]
        self.detectors.append(self._encoded)

    def _encoded(self, text: str) -> Iterator[Entity]:
        """An encoded run (base64, base32, hex, character codes, Morse) whose decoded text holds
        an entity: the whole run, of that entity's kind (a card number sent base64-encoded
        reaches the upstream, which can decode it, in clear otherwise); in a text decoded whole
        (HTML character references, quoted-printable, ``\\u`` escapes), each entity where its
        encoded characters stand."""
        from bastion.classify._normalize import decode_runs, decoded_spans  # noqa: PLC0415 - classify is heavy

        for source, plain, start, end in decode_runs(text, letters_share=0.0):
            whole = decoded_spans(source, text)
            if whole is not None:
                decoded, offsets = whole
                for detect in self.detectors:
                    if detect != self._encoded:
                        yield from (Entity(e.kind, offsets[e.start], offsets[e.end])
                                    for e in detect(decoded) if offsets[e.end] - offsets[e.start]
                                    > e.end - e.start)  # written encoded: not found as it is
                continue
            inner = next((e for detect in self.detectors if detect != self._encoded
                          for e in detect(plain)), None)
            if inner is not None:  # a run may end on the separator after its last code
                yield Entity(inner.kind, start,
                             start + len(text[start:end].rstrip(" \t\n,:;/")))

    def _phones(self, text: str) -> Iterator[Entity]:
        return _phones(text, self.phone_region)

    def find(self, text: str) -> list[Entity]:
        """Non-overlapping entities, in text order; a value with invisible characters or
        full-width forms inside it (``john\u200b@example.com``, ``example\uff0ecom``), or with
        URL-encoded characters (``5555%2E5555%2E5555%2E4444``), is found as if they were
        written plainly, and masked where it stands."""
        found = [e for detect in self.detectors for e in detect(text)]
        readings = [_unhidden(text)] if _HIDING.search(text) else []
        if "%" in text:  # an upstream may decode URL-encoded separators, such as %2E
            from bastion.classify._normalize import decoded_spans  # noqa: PLC0415 - heavy

            url = decoded_spans("url", text)
            if url is not None and url[0] != text:
                readings.append(url)
        for clean, offsets in readings:
            found += [Entity(e.kind, offsets[e.start], offsets[e.end])
                      for detect in self.detectors for e in detect(clean)]
        found.sort(key=lambda e: (e.start, -e.end))
        merged: list[tuple[Entity, Entity]] = []  # (the span so far, its longest member)
        for entity in found:
            if merged and entity.start < merged[-1][0].end:
                span, longest = merged[-1]
                if entity.end - entity.start > longest.end - longest.start:
                    longest = entity
                merged[-1] = (Entity(longest.kind, span.start, max(span.end, entity.end)),
                              longest)
            else:
                merged.append((entity, entity))
        return [span for span, _ in merged]
