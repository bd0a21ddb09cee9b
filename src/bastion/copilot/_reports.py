"""Reading threat reports: plain text, Markdown, PDF (pypdf) and STIX 2.1 bundles (stix2).

A STIX bundle is validated strictly by the ``stix2`` library (no custom properties); its
indicator patterns, attack-pattern references and object texts become the report's text and
explicit technique ids. Every failure is an :class:`~bastion.errors.InputError` that names
the file and says how to fix it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bastion.errors import InputError

ReportKind = Literal["text", "markdown", "pdf", "stix"]
MAX_BYTES = 20 * 1024 * 1024
_TEXT_FIELDS = ("name", "description", "pattern", "value", "x_mitre_description")


@dataclass(frozen=True)
class Report:
    """A report's text, ready for indicator and technique extraction.

    Attributes:
        explicit_techniques: ATLAS ids a structured source named (STIX external references).
        stix_objects: how many objects of each STIX type the bundle held.
    """

    name: str
    kind: ReportKind
    text: str
    explicit_techniques: tuple[str, ...] = ()
    stix_objects: tuple[tuple[str, int], ...] = ()


def read_report(data: bytes, name: str) -> Report:
    """Read a report from its bytes; the kind comes from the name's suffix and the content.

    Raises:
        InputError: the file is too large, unreadable, not a valid PDF or STIX bundle, or
            nested past the parsers' depth (``json`` and pypdf raise ``RecursionError``).
    """
    if len(data) > MAX_BYTES:
        raise InputError(f"report {name!r} is {len(data)} bytes; the limit is {MAX_BYTES}; "
                         "split it or extract the relevant part")
    try:
        return _parse(data, name)
    except RecursionError as exc:
        raise InputError(f"report {name!r} is nested too deeply to read (JSON arrays or PDF "
                         "objects inside each other thousands of times); no real report "
                         "does that: check the file, or paste its text") from exc


def _parse(data: bytes, name: str) -> Report:
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" or data.startswith(b"%PDF-"):
        return Report(name, "pdf", _pdf_text(data, name))
    text = _decode(data, name)
    if suffix == ".json" or text.lstrip().startswith("{"):
        return _stix(text, name)
    kind: ReportKind = "markdown" if suffix in (".md", ".markdown") else "text"
    return Report(name, kind, text)


def read_report_file(path: Path) -> Report:
    """Read a report from a file (see :func:`read_report`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read report {str(path)!r}: {exc.strerror}") from exc
    return read_report(data, path.name)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"report {name!r} is not UTF-8 text, a PDF or a STIX JSON bundle "
                         f"(byte {exc.start} is not UTF-8); convert it to UTF-8") from exc


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader  # noqa: PLC0415 - only PDF reports need it
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError(f"report {name!r} is an encrypted PDF; save an unencrypted copy")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InputError(f"report {name!r} is not a readable PDF ({type(exc).__name__}: "
                         f"{exc}); re-export it or paste its text") from exc
    if not text.strip():
        raise InputError(f"report {name!r} is a PDF without extractable text (a scan?); run "
                         "OCR on it first or paste its text")
    return text


def _stix(text: str, name: str) -> Report:
    import stix2  # noqa: PLC0415 - only STIX reports need it
    from stix2.exceptions import STIXError  # noqa: PLC0415

    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InputError(f"report {name!r} is not valid JSON ({exc}); a JSON report must be "
                         "a STIX 2.1 bundle") from exc
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        raise InputError(f"report {name!r} is JSON but not a STIX bundle; wrap the objects in "
                         '{"type": "bundle", "id": "bundle--<uuid>", "objects": [...]}')
    if "id" not in raw or not isinstance(raw.get("objects", []), list):
        raise InputError(f"report {name!r} is not a valid STIX 2.1 bundle: a bundle needs an "
                         "'id' (bundle--<uuid>) and an 'objects' list")
    try:
        bundle = stix2.parse(raw, allow_custom=False)
    except (STIXError, ValueError, TypeError) as exc:
        raise InputError(f"report {name!r} is not a valid STIX 2.1 bundle: {exc}") from exc
    lines: list[str] = []
    explicit: list[str] = []
    counts: dict[str, int] = {}
    for obj in getattr(bundle, "objects", None) or []:
        counts[obj.type] = counts.get(obj.type, 0) + 1
        lines.extend(_object_lines(obj))
        explicit.extend(str(ref.get("external_id", ""))
                        for ref in obj.get("external_references", None) or []
                        if str(ref.get("source_name", "")).lower() in ("mitre-atlas", "atlas"))
    return Report(name, "stix", "\n".join(lines), tuple(e for e in explicit if e),
                  tuple(sorted(counts.items())))


def _object_lines(obj: Any) -> list[str]:
    lines = []
    for key in _TEXT_FIELDS:
        value = obj.get(key, None)
        if isinstance(value, str) and value.strip():
            lines.append(f"{obj.type} {key}: {value}")
    return lines
