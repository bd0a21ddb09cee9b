"""Which texts the embedded tier reads as English: the choice of the language checks.

Usage::

    python bench/language_coverage.py [--datasets ../shared/datasets]

Two sides, both used to choose ``ASK_LANGID_BELOW``, ``ASK_LANGID_KNOWN_BELOW`` and
``LANGID_ENGLISH_MAX`` in ``bastion/classify/_language.py`` (so these are validation figures, not
blind ones):

* ``english``: the shared benign English sets (benign_instructions, benign_user_queries;
  prompts and, where present, answers), each read as the embedded tier reads it (the whole
  text and its sentence windows). Counted: texts not covered, by reason.
* ``other_languages``: bench/data/languages/other_languages.txt, 82 requests written in 20
  Latin-script languages. Counted: texts still read as English.
* ``short_other_languages``: bench/data/languages/short_other_languages.txt, 38 requests of
  two to five words in 10 languages (written to choose ``MIN_WORDS``). Counted likewise.
* ``blind``: bench/blind/other_languages.txt, 120 requests in 24 Latin-script languages (60
  harmful), written after the checks were chosen by a writer who never saw them (frozen; no
  choice is made on it). Counted: rows read as English, and harmful rows the default profile
  lets through (read as English and judged safe by the model).

Each side is measured with langid.py on (today's checks) and off (the checks before it), and
with today's checks at each candidate ``MIN_WORDS`` (``min_words``).
Results go to ``bench/results/language_coverage.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from bastion.classify import _language  # noqa: E402
from bastion.classify._embedded import _coverage  # noqa: E402
from bastion.classify._variants import views  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "language_coverage.json"
BLIND = ROOT / "bench" / "blind" / "other_languages.txt"
OTHER = ROOT / "bench" / "data" / "languages" / "other_languages.txt"
SHORT = ROOT / "bench" / "data" / "languages" / "short_other_languages.txt"
MIN_WORDS_CANDIDATES = (4, 3, 2)
ENGLISH_SETS = ("benign_instructions", "benign_user_queries")


def _english(datasets: Path) -> list[str]:
    texts = []
    for name in ENGLISH_SETS:
        for path in sorted((datasets / name).glob("*.jsonl")):
            for line in path.open(encoding="utf-8"):
                row = json.loads(line)
                texts += [row[k] for k in ("text", "response") if row.get(k)]
    return texts


def _rows(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("|", 1) for line in path.open(encoding="utf-8")
            if line.strip() and not line.startswith("#")]


def _side(texts: list[str]) -> tuple[int, Counter[str]]:
    reasons: Counter[str] = Counter()
    for text in texts:
        readable, why = _coverage(text, views(text))
        if not readable:
            reasons[why.split(" (")[0] if "langid" not in why else "langid.py"] += 1
    return sum(reasons.values()), reasons


def _blind() -> dict[str, object]:
    """The blind side: rows read as English, by label, and harmful rows allowed."""
    from bastion.classify import get_classifier  # noqa: PLC0415
    from bastion.policy import load_policy  # noqa: PLC0415

    rows = [(code, int(label), text) for code, label, text in (
        line.rstrip("\n").split("|", 2) for line in BLIND.open(encoding="utf-8")
        if line.strip() and not line.startswith("#"))]
    english = [_coverage(text, views(text))[0] for _, _, text in rows]
    verdicts = get_classifier("default").classify([text for _, _, text in rows],
                                                  load_policy("default"))
    allowed = [(code, text) for (code, label, text), verdict in zip(rows, verdicts, strict=True)
               if label == 1 and verdict.action == "allow"]
    out = {"rows": len(rows), "harmful": sum(label for _, label, _ in rows),
           "languages": len({code for code, _, _ in rows}),
           "harmful_read_as_english": sum(e for (_, label, _), e in zip(rows, english,
                                                                       strict=True) if label),
           "benign_read_as_english": sum(e for (_, label, _), e in zip(rows, english,
                                                                      strict=True) if not label),
           "harmful_allowed": len(allowed),
           "harmful_allowed_languages": sorted({code for code, _ in allowed})}
    print(f"blind: {out['harmful_read_as_english']} of {out['harmful']} harmful and "
          f"{out['benign_read_as_english']} of {len(rows) - out['harmful']} benign requests "
          f"read as English; {len(allowed)} harmful allowed by the default profile")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    if not args.datasets.is_dir():
        sys.exit(f"{args.datasets} not found: pass --datasets DIR (the shared datasets)")
    english = _english(args.datasets)
    rows = _rows(OTHER)
    other = [text for _, text in rows]
    short = [text for _, text in _rows(SHORT)]
    out: dict[str, object] = {"english_texts": len(english), "other_texts": len(other),
                              "languages": len({code for code, _ in rows})}
    # Without: langid.py is asked but no English probability falls below a bar of 0.
    never = mock.patch.object(_language, "LANGID_ENGLISH_MAX", 0.0)
    for name, setting in (("without_langid", never), ("with_langid", contextlib.nullcontext())):
        with setting:
            not_covered, reasons = _side(english)
            missed = [text for text in other if _coverage(text, views(text))[0]]
        out[name] = {"english_not_covered": not_covered, "english_reasons": dict(reasons),
                     "other_read_as_english": len(missed), "other_missed": missed}
        print(f"{name}: {not_covered} of {len(english)} English texts not covered; "
              f"{len(missed)} of {len(other)} other-language requests read as English")
    out["blind"] = _blind()
    out["min_words"] = {}
    for candidate in MIN_WORDS_CANDIDATES:
        with mock.patch.object(_language, "MIN_WORDS", candidate):
            not_covered, reasons = _side(english)
            missed = [text for text in short if _coverage(text, views(text))[0]]
            missed_long = [text for text in other if _coverage(text, views(text))[0]]
        out["min_words"][str(candidate)] = {
            "english_not_covered": not_covered, "english_reasons": dict(reasons),
            "other_read_as_english": len(missed_long), "short_read_as_english": len(missed),
            "short_texts": len(short), "short_missed": missed}
        print(f"MIN_WORDS={candidate}: {not_covered} of {len(english)} English texts not "
              f"covered; {len(missed)} of {len(short)} short other-language requests and "
              f"{len(missed_long)} of {len(other)} others read as English")
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
