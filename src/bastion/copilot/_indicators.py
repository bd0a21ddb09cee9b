"""Indicator extraction from threat reports: URLs, domains, IPs, hashes, CVE ids, model names
and jailbreak names. Defanged forms (``hxxp``, ``[.]``, ``(dot)``) are refanged first.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["url", "domain", "ipv4", "ipv6", "md5", "sha1", "sha256", "cve", "model",
               "jailbreak", "email"]
KINDS: tuple[Kind, ...] = ("url", "domain", "ipv4", "ipv6", "md5", "sha1", "sha256", "cve",
                           "model", "jailbreak", "email")

_REFANG = [(re.compile(r"\bhxxp(s?)://", re.I), r"http\1://"),
           (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*\.\s*\}", re.I), "."),
           (re.compile(r"\[\s*:\s*\]"), ":"), (re.compile(r"\[\s*@\s*\]|\[at\]", re.I), "@")]
_URL = re.compile(r"\bhttps?://[^\s<>\"'`)\]}]+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b", re.I)
_DOMAIN = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b", re.I)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{1,4}(?![\w:])", re.I)
_HEX = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b", re.I)
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,7}\b", re.I)
_MODEL = re.compile(
    r"\b(?:gpt-?(?:3\.5|4(?:\.1)?o?|4o-mini|5|oss)(?:-[a-z0-9.]+)*|o[134](?:-mini)?|"
    r"claude(?:[- ](?:\d(?:\.\d)?|instant|opus|sonnet|haiku))+|"
    r"llama[- ]?\d(?:\.\d)?(?:-[0-9]+b)?(?:-instruct)?|mistral(?:-[a-z0-9.]+)?|"
    r"mixtral(?:-[0-9x]+b)?|gemma[- ]?\d?(?:-[0-9]+b)?|gemini(?:[- ]\d(?:\.\d)?)?(?:[- ]pro|"
    r"[- ]flash)?|qwen[- ]?\d?(?:\.\d)?(?:-[0-9]+b)?|deepseek(?:-(?:r1|v\d|coder))?|"
    r"phi-?\d(?:\.\d)?|falcon-[0-9]+b|vicuna-[0-9]+b)\b", re.I)
#: Named jailbreak families an analyst report may cite (lower case -> canonical name).
JAILBREAKS: dict[str, str] = {
    "dan": "DAN", "do anything now": "DAN", "developer mode": "Developer Mode",
    "aim": "AIM", "stan": "STAN", "dude": "DUDE", "grandma exploit": "Grandma exploit",
    "grandmother exploit": "Grandma exploit", "many-shot": "Many-shot jailbreaking",
    "many shot": "Many-shot jailbreaking", "crescendo": "Crescendo",
    "skeleton key": "Skeleton Key", "deceptive delight": "Deceptive Delight",
    "bad likert judge": "Bad Likert Judge", "art prompt": "ArtPrompt", "artprompt": "ArtPrompt",
    "gcg": "GCG adversarial suffix", "adversarial suffix": "GCG adversarial suffix",
    "pair attack": "PAIR", "tree of attacks": "TAP", "policy puppetry": "Policy Puppetry",
    "echo chamber": "Echo Chamber", "best-of-n": "Best-of-N jailbreaking",
}
_JAILBREAK = re.compile(r"\b(" + "|".join(sorted(map(re.escape, JAILBREAKS), key=len,
                                                 reverse=True)) + r")\b", re.I)
# Short, common words are names only in capitals ("DAN", "AIM"), not "dan" or "aim".
_CAPS_ONLY = frozenset({"dan", "aim", "stan", "dude", "gcg"})
_FILE_SUFFIXES = frozenset({"py", "js", "md", "txt", "json", "yaml", "yml", "pdf", "png", "jpg",
                            "exe", "dll", "zip", "html", "css", "ts", "sh", "pt", "bin", "onnx",
                            "pkl", "safetensors", "gguf", "csv", "log", "cfg", "ini", "toml"})


@dataclass(frozen=True, order=True)
class Indicator:
    """One indicator: its kind and normalised value."""

    kind: Kind
    value: str


def refang(text: str) -> str:
    """Undo the usual defanging (``hxxp``, ``[.]``, ``(dot)``, ``[:]``, ``[at]``)."""
    for pattern, repl in _REFANG:
        text = pattern.sub(repl, text)
    return text


def extract(text: str) -> list[Indicator]:
    """Every distinct indicator in ``text``, grouped by kind in :data:`KINDS` order."""
    text = refang(text)
    found: dict[Indicator, None] = {}

    def add(kind: Kind, values: Iterable[str]) -> None:
        for value in values:
            found.setdefault(Indicator(kind, value), None)

    urls = [u.rstrip(".,;:!?") for u in _URL.findall(text)]
    add("url", urls)
    emails = [e.lower() for e in _EMAIL.findall(text)]
    add("email", emails)
    hosts = {_host(u) for u in urls}
    bare = _EMAIL.sub(" ", _URL.sub(" ", text))
    add("domain", (d.lower() for d in _DOMAIN.findall(bare) if _is_domain(d)))
    add("domain", sorted(h for h in hosts if h and _is_domain(h)))
    add("ipv4", (ip for ip in _IPV4.findall(text) if _valid_ip(ip)))
    add("ipv6", (ip.lower() for ip in _IPV6.findall(text) if _valid_ip(ip)))
    for digest in _HEX.findall(text):
        add({32: "md5", 40: "sha1", 64: "sha256"}[len(digest)],  # type: ignore[arg-type]
            [digest.lower()])
    add("cve", (c.upper() for c in _CVE.findall(text)))
    add("model", (m.lower().replace(" ", "-") for m in _MODEL.findall(text)))
    add("jailbreak", (JAILBREAKS[j.lower()] for j in _JAILBREAK.findall(text)
                      if j.lower() not in _CAPS_ONLY or j.isupper()))
    return sorted(found, key=lambda i: (KINDS.index(i.kind), i.value))


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0].lower()


def _is_domain(value: str) -> bool:
    return not (value.lower().rsplit(".", 1)[-1] in _FILE_SUFFIXES or _IPV4.fullmatch(value))


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
