"""Wall-clock of 200 attack attempts against the scripted target (100 ms latency):
Bastion at concurrency 16 versus garak, in one run, against the same local server.

garak runs in its own virtual environment (never the project's): ``--garak-venv`` (default
``bench/.venv-garak``; create it with ``python -m venv bench/.venv-garak &&
bench/.venv-garak/bin/pip install garak``). Without it the garak side is reported as missing.

Usage: ``python bench/redteam_speed.py [--attempts 200] [--latency 0.1] [--concurrency 16]``.
Results: ``bench/results/redteam_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).parent))
from _redteam_server import serve, stats

from bastion.redteam import make_config, run_campaign

HERE = Path(__file__).parent
GARAK_CONFIG = """
run:
  generations: 1
  soft_probe_prompt_cap: {attempts}
system:
  parallel_attempts: {parallel}
  lite: true
plugins:
  generators:
    openai:
      OpenAICompatible:
        uri: "{url}"
        model: vulnerable
        api_key: "bench"
        suppressed_params: ["n", "stop", "frequency_penalty", "presence_penalty"]
"""


def bastion_run(url: str, attempts: int, concurrency: int) -> dict[str, object]:
    config = make_config(
        target="openai", target_options={"base_url": url, "model": "vulnerable"},
        probes=["harmful", "jailbreak", "many_shot", "injection_direct", "injection_indirect",
                "system_prompt_extraction", "pii_leak", "capability"],
        converters=["none", "base64"], harm_tier="rules", limit=attempts,
        concurrency=concurrency, seed=1)
    walls = []
    for _ in range(2):  # cold (loads the refusal model and rules), then warm
        start = time.perf_counter()
        results = anyio.run(lambda: run_campaign(config))
        walls.append(time.perf_counter() - start)
    return {"attempts": len(results), "wall_s": round(walls[0], 3),
            "wall_s_warm": round(walls[1], 3), "concurrency": concurrency,
            "successes": sum(a.success for a in results),
            "errors": sum(a.error is not None for a in results)}


def garak_run(venv: Path, url: str, attempts: int, parallel: int | bool) -> dict[str, object]:
    exe = venv / "bin" / "python"
    if not exe.exists():
        return {"error": f"no garak venv at {venv}; see this script's docstring"}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "garak.yaml"
        config.write_text(GARAK_CONFIG.format(attempts=attempts, url=url,
                                              parallel=str(parallel).lower()))
        command = [str(exe), "-m", "garak", "--config", str(config), "--model_type",
                   "openai.OpenAICompatible", "--model_name", "vulnerable", "--probes",
                   "dan.DanInTheWild", "--report_prefix", f"{tmp}/bench"]
        env = {**os.environ, "OPENAICOMPATIBLE_API_KEY": "bench", "XDG_DATA_HOME": tmp,
               "XDG_CACHE_HOME": tmp, "XDG_CONFIG_HOME": tmp, "HF_HUB_OFFLINE": "1"}
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              timeout=3600)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": f"garak exited {done.returncode}", "stderr": done.stderr[-2000:],
                "wall_s": round(wall, 3)}
    return {"wall_s": round(wall, 3), "parallel_attempts": parallel,
            "probe": "dan.DanInTheWild", "stdout_tail": done.stdout[-600:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--garak-venv", type=Path, default=HERE / ".venv-garak")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    out: dict[str, object] = {"attempts": args.attempts, "latency_s": args.latency,
                              "machine": {"python": platform.python_version(),
                                          "cpus": os.cpu_count()}}
    with serve(args.latency) as url:
        out["bastion"] = bastion_run(url, args.attempts, args.concurrency)
        out["bastion"]["server_both_runs"] = stats(url, reset=True)  # type: ignore[index]
        for label, parallel in (("garak_default", False), ("garak_parallel", args.concurrency)):
            out[label] = garak_run(args.garak_venv, url, args.attempts, parallel)
            out[label]["server"] = stats(url, reset=True)  # type: ignore[index]
    bastion_wall = float(out["bastion"]["wall_s"])  # type: ignore[index]
    for label in ("garak_default", "garak_parallel"):
        garak = out[label]
        if isinstance(garak, dict) and "error" not in garak:
            out[f"ratio_{label}_over_bastion"] = round(float(garak["wall_s"]) / bastion_wall, 2)
    path = HERE / "results" / "redteam_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
