"""Quality of the classifier profiles side by side, on data no choice was made on.

Usage::

    python bench/classifier_quality.py [--profiles default,fast] [--quick]

Sets (each reported for every profile, in one run):

* ``blind_contrast``: bench/blind/builtin_contrast.jsonl, 549 hand-written rows frozen before
  training (plain, intent-without-trigger-words, framed, chat, minimal pairs); by group too.
* ``custom_policies_blind``: the 8 blind custom policies of bench/custom_policies/test, each
  classified against its own policy (the policy reader; no choice was made on them).
* ``transforms``: recall on the blind set's plainly harmful rows (groups plain and intent), as
  sent and transformed (base64, double base64, hex, URL-encoding, full-width, homoglyphs,
  reversed, letter-spaced, leetspeak, zero-width, tag characters, inside 2k / 20k characters of
  office prose, after 200 characters of prose, and the red team's converters: Best-of-N
  with its defaults, shuffles alone, character noise alone; a markdown quote, a code string,
  a request split into variables), with each transform's ratio to plain recall.
* ``app_traffic``: bench/data/app_traffic/benign.jsonl, 60 benign texts of applications
  (system-prompt lines, extraction and agent requests, everyday questions, code and technical
  answers), written 2026-12-01 after a survey of benign gateway traffic found refusals; no
  choice was made on them. The figure is the false-positive rate.
* ``structured_blind``: bench/data/app_traffic/blind_structured.jsonl, 120 pasted structured
  texts (CSV, address and id lists, logs, configs, tables; 80 benign, 40 with harm hidden in the
  same shapes), written 2026-12-05 by a writer who saw no training row, and frozen before
  anything was measured on it (the table reading of ``_variants``, chosen on development and
  validation rows; a refit on ``data/own/c_app_structured.jsonl``, not shipped).
* ``chatbot_blind``: bench/data/app_traffic/blind_chatbot.jsonl, 160 prompts as people type
  them to a general-purpose chatbot (persona and role-play set-ups, instruction-heavy prompts,
  tasks on pasted text and code, scary words used innocently, chit-chat, 13 in other
  languages; 110 benign, 50 harmful in the same shapes), written 2026-12-05 by a writer who saw
  no training row, and frozen before anything was measured on it.
* ``heldout_test``: the test side of the near-duplicate-cluster split of the table the
  installed model was trained on, frozen as text digests in ``bench/heldout/test.sha256``
  (written by the training's ``heldout`` step; splitting today's sources again would move
  whole clusters, see :mod:`bastion.training._heldout`); needs ../shared/datasets; overall and
  per source, with how many frozen texts today's sources still hold. The old static heads were
  trained on an older split, so their figure here may include rows they saw.
* ``external``: measurement-only sets of ../shared that neither model trained on (ToxicChat
  train split, TweetEval hate, ETHOS, Stormfront, MaliciousInstruct + Alpaca).

A text counts as flagged when the verdict is a violation or an error (errors block). Results go
to ``bench/results/classifier_quality.json``.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import hashlib
import json
import platform
import random
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from bastion.classify import Verdict, get_classifier  # noqa: E402
from bastion.evaluation import binary_scores  # noqa: E402
from bastion.policy import load_policy  # noqa: E402
from bastion.redteam.converters import BestOfN, CodeWrap, MarkdownWrap, PayloadSplit  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "classifier_quality.json"
HELDOUT = ROOT / "bench" / "heldout" / "test.sha256"
DATA = ROOT.parent / "shared" / "datasets"
PROSE = ("The quarterly planning meeting will cover budgets, hiring and the office move. "
         "Please send your slides to the team lead by Thursday and book the large room. ")
HOMOGLYPHS = str.maketrans({"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440",
                            "c": "\u0441", "x": "\u0445", "i": "\u0456"})
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: t,
    "base64": _b64,
    "double_base64": lambda t: _b64(_b64(t)),
    "hex": lambda t: t.encode().hex(),
    "url": urllib.parse.quote,
    "full_width": lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
    "homoglyphs": lambda t: t.translate(HOMOGLYPHS),
    "reversed": lambda t: t[::-1],
    "rot13": lambda t: codecs.encode(t, "rot13"),
    "spaced": lambda t: "  ".join(" ".join(w) for w in t.split()),
    "leetspeak": lambda t: t.translate(LEET),
    "zero_width": "\u200b".join,
    "tag_characters": lambda t: "Hi!" + "".join(chr(0xE0000 + ord(c)) for c in t if ord(c) < 128),
    "after_200_prose": lambda t: PROSE[:200] + " " + t,
    "inside_2k_prose": lambda t: (PROSE * 9)[:1000] + " " + t + " " + (PROSE * 9)[:1000],
    "inside_20k_prose": lambda t: (PROSE * 80)[:10000] + " " + t + " " + (PROSE * 80)[:10000],
    # the red team's Best-of-N converter, one variant per text (seeded by the text)
    "best_of_n": lambda t: BestOfN().convert(t, random.Random(t)),
    "shuffled": lambda t: BestOfN(caps=0.0, noise=0.0).convert(t, random.Random(t)),
    "char_noise": lambda t: BestOfN(caps=0.0, scramble=0.0).convert(t, random.Random(t)),
    # and its wrappers: a quoted task under markdown headings, a string in a program, a
    # request split into variables
    "markdown_quote": lambda t: MarkdownWrap().convert(t, random.Random(t)),
    "code_wrap": lambda t: CodeWrap().convert(t, random.Random(t)),
    "payload_split": lambda t: PayloadSplit().convert(t, random.Random(t)),
}


def jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def sample(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """A fixed pseudo-random sample (by hash of text)."""
    return sorted(rows, key=lambda r: hashlib.sha256(("bench" + r["text"]).encode()).digest()
                  )[:limit]


class Runner:
    """Classifies with one profile and counts texts and time."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.classifier = get_classifier(profile)
        self.texts = 0
        self.seconds = 0.0

    def verdicts(self, texts: list[str], policy: Any) -> list[Verdict]:
        start = time.perf_counter()
        out: list[Verdict] = []
        for i in range(0, len(texts), 256):
            out += self.classifier.classify(texts[i:i + 256], policy)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out

    def score(self, texts: list[str], labels: list[int], policy: Any = "default"
              ) -> dict[str, Any]:
        verdicts = self.verdicts(texts, load_policy(policy))
        return binary_scores(labels, [int(v.kind != "safe") for v in verdicts],
                             [1.0 if v.is_error else v.score for v in verdicts]).to_dict()


def blind_contrast(run: Runner) -> dict[str, Any]:
    rows = jsonl(ROOT / "bench/blind/builtin_contrast.jsonl")
    out: dict[str, Any] = {"all": run.score([r["text"] for r in rows], [r["label"] for r in rows])}
    for group in sorted({r["group"] for r in rows}):
        part = [r for r in rows if r["group"] == group]
        out[group] = run.score([r["text"] for r in part], [r["label"] for r in part])
    return out


def app_traffic(run: Runner) -> dict[str, Any]:
    """Benign application traffic (no positives: the false-positive rate is the figure)."""
    rows = jsonl(ROOT / "bench/data/app_traffic/benign.jsonl")
    found = run.score([r["text"] for r in rows], [r["label"] for r in rows])
    return found | {"precision": None, "recall": None, "f1": None}


def app_blind(run: Runner, name: str) -> dict[str, Any]:
    """A blind set of application traffic (``bench/data/app_traffic/blind_<name>.jsonl``),
    benign and with harm in the same shapes."""
    rows = jsonl(ROOT / f"bench/data/app_traffic/blind_{name}.jsonl")
    return {"all": run.score([r["text"] for r in rows], [r["label"] for r in rows])}


def custom_policies(run: Runner, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name == "README.md":
            continue
        rows = jsonl(path.with_suffix(".jsonl"))
        out[path.stem] = run.score([r["text"] for r in rows], [r["label"] for r in rows],
                                   path)
    out["macro_f1"] = round(sum(v["f1"] for v in out.values()) / len(out), 4)
    return out


def transforms(run: Runner) -> dict[str, Any]:
    """Recall on the blind harmful rows (plain and intent groups) as sent and transformed,
    and the share of their benign twins flagged under the same transform: recall alone
    cannot tell a request caught inside office prose from the prose itself being flagged."""
    rows = [r for r in jsonl(ROOT / "bench/blind/builtin_contrast.jsonl")
            if r["group"] in ("plain", "intent")]
    labels = [int(r["label"]) for r in rows]
    out: dict[str, Any] = {}
    for name, transform in TRANSFORMS.items():
        result = run.score([transform(r["text"]) for r in rows], labels)
        out[name] = {"recall": result["recall"], "n": sum(labels),
                     "benign_flagged": result["fpr"], "benign_n": len(labels) - sum(labels)}
    plain = out["plain"]["recall"] or 1.0
    for result in out.values():
        result["ratio_to_plain"] = round(result["recall"] / plain, 3)
    return out


def heldout_test(run: Runner) -> dict[str, Any]:
    from bastion.training import load_all  # noqa: PLC0415
    from bastion.training._heldout import read_heldout, text_digest  # noqa: PLC0415

    frozen = read_heldout(HELDOUT)
    rows = load_all(DATA, ROOT / "data/own", ROOT / "scripts")
    unique = {r.text: r for r in rows if text_digest(r.text) in frozen}
    test = [r for r in unique.values() if r.labels.get("harm", -1) >= 0]
    out: dict[str, Any] = {"frozen": len(frozen), "found": len(unique),
                           "all": run.score([r.text for r in test],
                                            [r.labels["harm"] for r in test])}
    for source in sorted({r.source for r in test}):
        part = [r for r in test if r.source == source]
        if len(part) >= 30:
            out[source] = run.score([r.text for r in part], [r.labels["harm"] for r in part])
    return out


def external(run: Runner) -> dict[str, Any]:
    specs = {
        "toxicchat_train_human": lambda: [(r["text"], r["toxicity"]) for r in jsonl(
            DATA / "toxicchat/toxicchat0124_human_train.jsonl")],
        "tweeteval_hate_test": lambda: [(r["text"], r["label"]) for r in jsonl(
            DATA / "tweeteval_hate_offensive/tweeteval_hate_test.jsonl")],
        "ethos_binary": lambda: [(r["text"], r["label"]) for r in jsonl(
            DATA / "ethos/ethos_binary.jsonl")],
        "stormfront_sample": lambda: [(r["text"], r["label"]) for r in sample(jsonl(
            DATA / "stormfront_hate_speech/stormfront_sentences.jsonl"), 3000)],
        "malicious_instruct+alpaca": lambda: [(r["text"], 1) for r in jsonl(
            DATA / "malicious_instruct/malicious_instruct.jsonl")] + [
            (r["text"], 0) for r in sample([r for r in jsonl(
                DATA / "refusal_direction_splits/refusal_direction_all.jsonl")
                if r["label"] == 0 and r["split"] == "test"], 500)],
    }
    out: dict[str, Any] = {}
    for name, load in specs.items():
        try:
            pairs = load()
        except FileNotFoundError as exc:
            out[name] = {"skipped": str(exc)}
            continue
        out[name] = run.score([t for t, _ in pairs], [y for _, y in pairs])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="default,fast")
    parser.add_argument("--quick", action="store_true", help="blind sets only (no ../shared)")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "command": "python bench/classifier_quality.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"), "machine": {"python": platform.python_version(),
                                                        "cpu": platform.machine()},
        "profiles": {}}
    for profile in args.profiles.split(","):
        run = Runner(profile)
        result: dict[str, Any] = {
            "blind_contrast": blind_contrast(run),
            "custom_policies_blind": custom_policies(run, ROOT / "bench/custom_policies/test"),
            "custom_policies_dev": custom_policies(run, ROOT / "bench/custom_policies/dev"),
            "transforms": transforms(run),
            "app_traffic": app_traffic(run),
            "structured_blind": app_blind(run, "structured"),
            "chatbot_blind": app_blind(run, "chatbot"),
        }
        if not args.quick and DATA.is_dir():
            result["heldout_test"] = heldout_test(run)
            result["external"] = external(run)
        result["texts_per_s_while_measuring"] = round(run.texts / max(run.seconds, 1e-9), 1)
        report["profiles"][profile] = result
        print(json.dumps({profile: {k: v.get("all", v.get("macro_f1", v.get("plain")))
                                    for k, v in result.items() if isinstance(v, dict)}}),
              flush=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
