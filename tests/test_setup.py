"""Set-up as a new user meets it: locks that install from PyPI alone, a venv check that helps."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = sorted((ROOT / "requirements").glob("*.lock"))


def test_the_locks_we_document_exist() -> None:
    assert {p.name for p in LOCKS} == {"bootstrap.lock", "main.lock", "dev.lock", "train.lock",
                                       "semgrep.lock"}


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_locks_name_no_index_or_local_path_and_hash_every_pin(lock: Path) -> None:
    text = lock.read_text("utf-8")
    for forbidden in ("--index-url", "--extra-index-url", "--find-links", "file://", "/opt/"):
        assert forbidden not in text, f"{lock.name} holds {forbidden!r}; regenerate: make lock"
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+(.*?)(?=^\S|\Z)", text, re.M | re.S)
    assert pins
    for name, rest in pins:
        assert "--hash=sha256:" in rest, f"{lock.name}: {name} has no hash"


def test_torch_stays_out_of_the_runtime_and_dev_locks() -> None:
    for name in ("main.lock", "dev.lock"):
        text = (ROOT / "requirements" / name).read_text("utf-8")
        assert not re.search(r"^(torch|nvidia-[\w-]+)==", text, re.M), name
    assert re.search(r"^torch==2\.13\.0\+cpu ", (ROOT / "requirements" / "train.lock")
                     .read_text("utf-8"), re.M)


def test_python_311_to_313_are_supported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["requires-python"] == ">=3.11,<3.14"


def _venv_check(venv: Path, python: str, explicit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), python, str(venv),
                           explicit], capture_output=True, text=True, check=False, cwd=ROOT)


def _fake_venv(tmp_path: Path, version: str) -> Path:
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    python.chmod(0o755)
    return venv


def test_a_venv_of_another_python_is_refused_with_what_to_do(tmp_path: Path) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    venv = _fake_venv(tmp_path, other)
    done = _venv_check(venv, sys.executable, "yes")
    assert done.returncode == 2
    assert f"was made by Python {other}, but PYTHON=" in done.stderr
    assert "make clean" in done.stderr
    # without PYTHON named on the command line, the venv there is simply used
    assert _venv_check(venv, sys.executable, "no").returncode == 0


def test_a_venv_of_an_unsupported_python_is_refused(tmp_path: Path) -> None:
    done = _venv_check(_fake_venv(tmp_path, "3.10"), sys.executable, "no")
    assert done.returncode == 2
    assert "was made by Python 3.10; Bastion needs Python 3.11, 3.12 or 3.13" in done.stderr


def test_a_broken_venv_and_an_unsupported_python_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    done = _venv_check(tmp_path / "broken", sys.executable, "no")
    assert done.returncode == 2
    assert "make clean" in done.stderr
    done = _venv_check(tmp_path / "new", "no-such-python", "yes")
    assert done.returncode == 2
    assert "Python 3.11, 3.12 or 3.13" in done.stderr
    assert not (tmp_path / "new").exists()
