"""The README's red-team demo, regenerated: the same campaign against the ``vulnerable`` target.

Runs ``bastion redteam run -t vulnerable -p harmful,jailbreak,injection_indirect,
system_prompt_extraction -c none,base64`` in-process (default scorers and harm tier), writes
``bench/results/redteam_demo.json`` and, with ``--readme``, rewrites the figures between the
``redteam-demo`` markers of ``README.md``. The target's weaknesses are structural (see
:mod:`bastion.redteam.targets._vulnerable`), so the figure measures the attacks, not our own
wording.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import anyio

from bastion.redteam import make_config, run_campaign, summarise

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
PROBES = ["harmful", "jailbreak", "injection_indirect", "system_prompt_extraction"]
CONVERTERS = ["none", "base64"]
BLOCK = re.compile(r"(<!-- redteam-demo:start -->\n).*?(<!-- redteam-demo:end -->)", re.DOTALL)


def block(n: int, wins: int, errors: int, asr: float, low: float, high: float,
          seconds: float) -> str:
    """The README's demo transcript with these figures."""
    return (
        "```text\n"
        f"$ bastion redteam run -t vulnerable -p {','.join(PROBES)} \\\n"
        f"      -c {','.join(CONVERTERS)} -j 16 --log run.jsonl -o reports\n"
        f"successes {wins} · errors {errors} ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ "
        f"{n}/{n} 0:00:{round(seconds):02d}\n"
        "wrote reports/redteam.json, redteam.md, redteam.html, redteam.junit.xml, "
        "redteam.sarif\n"
        f"│ overall            │ {n} │ {wins}        │ {asr:.1%}  │ {low:.1%} - {high:.1%}  │\n"
        "$ bastion redteam gate run.jsonl --max-asr 0.05; echo $?\n"
        f"FAIL overall 'overall': ASR {asr:.1%} > limit 5.0% (n={n})\n"
        "1\n"
        "```\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", action="store_true", help="rewrite the README block")
    args = parser.parse_args()
    config = make_config(target="vulnerable", probes=PROBES, converters=CONVERTERS,
                         concurrency=16)
    start = time.perf_counter()
    attempts = anyio.run(lambda: run_campaign(config))
    seconds = time.perf_counter() - start
    summary = summarise(attempts)
    overall = summary.overall
    out = {"command": "python bench/redteam_demo.py", "config": config.model_dump(mode="json"),
           "seconds": round(seconds, 2), "overall": overall.to_dict(),
           "by_category": [r.to_dict() for r in summary.by_category],
           "by_converter": [r.to_dict() for r in summary.by_converter]}
    (HERE / "results" / "redteam_demo.json").write_text(json.dumps(out, indent=2) + "\n")
    text = block(overall.n + overall.errors, overall.successes, overall.errors, overall.asr,
                 overall.low, overall.high, seconds)
    if args.readme:
        readme = README.read_text("utf-8")
        if not BLOCK.search(readme):
            print("README.md has no redteam-demo markers", file=sys.stderr)
            return 2
        README.write_text(BLOCK.sub(lambda m: m.group(1) + text + m.group(2), readme), "utf-8")
    print(text)
    print(json.dumps(out["overall"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
