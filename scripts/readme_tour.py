"""Run the README's tour as written and keep the README's shown output and tables true.

    python scripts/readme_tour.py --check               # run the tour; fail on any drift
    python scripts/readme_tour.py --write               # run the tour; rewrite the README
    python scripts/readme_tour.py --check --fresh-clone # first `git clone` + `make demo`
    python scripts/readme_tour.py --tables-only --check # only the benchmark tables

Every command of the tour runs in a shell, as a reader would type it (servers on free ports
instead of the README's, which may be taken), with its exit code and key output checked and
no traceback allowed. The README holds the output between ``<!-- tour:NAME -->`` and
``<!-- /tour:NAME -->`` markers, and the benchmark tables (from ``bench/results/``) between
``<!-- bench:NAME -->`` markers. ``--check`` compares them with a fresh run, masking only what
changes from run to run (latencies, generated ids and keys): a changed figure is drift.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tour import ROOT, Tour, TourStepError, run_tour
from _tour_tables import TABLES

README = ROOT / "README.md"


def replace_block(text: str, kind: str, name: str, body: str) -> str:
    """``text`` with the block between the markers of ``kind:name`` replaced by ``body``."""
    start, end = f"<!-- {kind}:{name} -->\n", f"<!-- /{kind}:{name} -->"
    head, found, rest = text.partition(start)
    if not found:
        raise SystemExit(f"README.md has no '{start.strip()}' marker; add one where the "
                         f"{kind} block {name!r} belongs")
    _, found, tail = rest.partition(end)
    if not found:
        raise SystemExit(f"README.md: '{start.strip()}' is never closed by '{end}'")
    return head + start + body.rstrip("\n") + "\n" + end + tail


def block(text: str, kind: str, name: str) -> str:
    """The current body of a README block."""
    rest = text.partition(f"<!-- {kind}:{name} -->\n")[2]
    return rest.partition(f"<!-- /{kind}:{name} -->")[0]


def main(argv: list[str] | None = None) -> int:
    """Run, then check or write; exit 1 on drift or a failed step."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail when the README drifted")
    mode.add_argument("--write", action="store_true", help="rewrite the README's blocks")
    parser.add_argument("--fresh-clone", action="store_true",
                        help="git clone this repository and run `make demo` there first")
    parser.add_argument("--tables-only", action="store_true",
                        help="only the benchmark tables (no commands run)")
    args = parser.parse_args(argv)

    generated = {("bench", name): make() for name, make in TABLES.items()}
    if not args.tables_only:
        with tempfile.TemporaryDirectory(prefix="bastion-tour-") as tmp:
            tour = Tour(Path(tmp), fresh_clone=args.fresh_clone)
            try:
                generated.update({("tour", name): body for name, body in run_tour(tour)})
            except TourStepError as exc:
                print(f"FAILED {exc}")
                return 1
            finally:
                tour.close()

    text = README.read_text("utf-8")
    if args.write:
        for (kind, name), body in generated.items():
            text = replace_block(text, kind, name, body)
        README.write_text(text, "utf-8")
        print(f"README.md: {len(generated)} blocks written")
        return 0
    drifted = 0
    for (kind, name), body in generated.items():
        old, new = Tour.mask(block(text, kind, name)), Tour.mask(body)
        if old.strip() != new.strip():
            drifted += 1
            print(f"== README block {kind}:{name} drifted (- README, + now):")
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), n=1))
    if drifted:
        print(f"{drifted} README block(s) drifted; run `python scripts/readme_tour.py --write` "
              "and review the diff")
        return 1
    print(f"README.md: {len(generated)} blocks match a fresh run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
