"""``bastion redteam``: option values as typed on the command line, read into settings.

Comma lists (``-p a,b``), target options (``-T key=value``) and plugin options
(``-P probe.key=value``, ``-S``, ``-C``), each value read as YAML as a campaign file reads
it, except that an option taking text keeps what was typed; and the attacker's and judge's
flags, declared here once for ``run`` and ``rerun``, their ``--*-verify`` / ``--*-timeout``
checked so that a bad one is refused before any request in words that name the flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
import yaml

from bastion.errors import ConfigError
from bastion.redteam import CampaignConfig, plugin_class
from bastion.redteam._config import MODEL_ROLES, flag
from bastion.redteam._options import text_options
from bastion.redteam.targets._tls import tls_verify


def split(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated values as one list; None when none was given."""
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def target_options(pairs: list[str] | None, target: str) -> dict[str, Any]:
    """``-T key=value`` pairs; values read as YAML, except that an option taking text keeps
    what was typed when YAML would make it something else (a JSON body template such as
    ``{"q": "{prompt}"}`` is a mapping to YAML)."""
    text = text_options(plugin_class("targets", target)) if pairs else set()
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"target option {pair!r} must look like key=value")
        out[key.strip()] = yaml_value(value, f"target option {key.strip()!r}",
                                      as_text=key.strip() in text)
    return out


def yaml_value(value: str, where: str, *, as_text: bool = False) -> Any:
    """A ``-T`` / ``-P`` value read as YAML; an option taking text keeps what was typed
    (``You are ShopBot: answer...`` is a mapping to YAML, or no YAML at all)."""
    try:
        parsed = yaml.safe_load(value) if value else ""
    except yaml.YAMLError as exc:
        if as_text:
            return value
        raise ConfigError(f"{where}: {value!r} is not YAML ({getattr(exc, 'problem', exc)}); "
                          "write a YAML value such as 0.5, [a, b] or {k: v}, and quote text"
                          ) from exc
    return value if as_text and not isinstance(parsed, str) else parsed


#: Per kind of plugin set by name on the command line: the singular, and an example.
_NAMED_OPTIONS = {"probes": ("probe", "purpose.purpose='support bot of a bank'"),
                  "strategies": ("strategy", "pair.streams=5"),
                  "converters": ("converter", "caesar.shift=5")}


def named_option(kind: str, short: str) -> Any:
    """The ``--<plugin>-option`` flag of ``run`` for one kind of plugin."""
    one, example = _NAMED_OPTIONS[kind]
    return typer.Option(f"--{one}-option", short, help=(
        f"A {one} option as {one}.option=value (YAML value), e.g. {short} {example} (see "
        f"'bastion redteam list {kind}')."))


def named_options(pairs: list[str] | None, kind: str = "probes") -> dict[str, dict[str, Any]]:
    """``plugin.option=value`` pairs (``-P``, ``-S``, ``-C``) by plugin name."""
    one, example = _NAMED_OPTIONS[kind]
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        name, dot, option = key.strip().partition(".")
        if not sep or not dot or not name or not option:
            raise ConfigError(f"{one} option {pair!r} must look like {one}.option=value "
                              f"(e.g. {example})")
        out.setdefault(name, {})[option] = yaml_value(
            value, f"{one} option {key.strip()!r}",
            as_text=option in text_options(plugin_class(kind, name)))  # type: ignore[arg-type]
    return out


def verify_flag(value: str | None, flag: str) -> bool | str | None:
    """``--attacker-verify`` / ``--judge-verify`` as the campaign setting: true or false as a
    campaign file reads them (``yes``, ``off``, ``1``...), else the path of a CA bundle, checked
    now by the targets' own check (a missing or unreadable file is refused before any request,
    the message naming the flag). ``false`` is passed on unchecked: the model's client warns
    once when it is made, and the report says TLS was not checked."""
    if value is None:
        return None
    try:
        read = yaml.safe_load(value)
    except yaml.YAMLError:  # text YAML cannot read (a path starting with '@'): a path
        read = value
    if isinstance(read, int) and read in (0, 1):  # bool is an int; 1 and 0 as the file reads them
        return bool(read)
    tls_verify(value, "", flag, f"{flag} ")
    return value


def timeout_flag(value: float | None, flag: str) -> float | None:
    """``--attacker-timeout`` / ``--judge-timeout``: seconds above 0, or a ConfigError naming
    the flag (the campaign setting's own check would name the setting, not what was typed)."""
    if value is not None and not value > 0:  # 'not >' also refuses nan
        raise ConfigError(f"{flag} {value:g}: a timeout is the seconds one request to the model "
                          f"may take in all, so it must be above 0; give e.g. {flag} 60 (the "
                          f"default), or {flag} 300 for a slow model")
    return value


def _default(setting: str) -> Any:
    return CampaignConfig.model_fields[setting].default


#: What each model is for, as the ``--*-url`` flags say.
_USES = {"attacker": "attacker model for pair, tap, crescendo_llm and the paraphrase and "
                     "translate converters",
         "judge": "judge model for the 'judge' scorer, separate from the attacker"}
#: Each flag's default is the campaign's setting (a campaign file's, or the log's for a rerun).
_FALLBACK = "default: the campaign's setting, else"


def _model_option(role: str, setting: str) -> Any:
    """The ``--<role>-<setting>`` flag of ``run`` and ``rerun``: the campaign setting of that
    name, which it overrides."""
    helps = {
        "url": ("URL", f"OpenAI-compatible {_USES[role]} ({_FALLBACK} none)."),
        "model": ("NAME", f"Model name of the {role} ({_FALLBACK} "
                          f"{_default(f'{role}_model')}; needs the {role}'s URL)."),
        "timeout": ("SECONDS", f"Seconds one request to the {role} model may take in all: "
                               f"connecting, waiting and reading ({_FALLBACK} "
                               f"{_default(f'{role}_timeout'):g}; needs the {role}'s URL)."),
        "verify": ("BOOL|PEM", f"Check the {role} model's TLS certificate: true (public roots, "
                               "the default), the path of a CA bundle (PEM), or false (no "
                               "check: a warning, and the report says so; needs the "
                               f"{role}'s URL)."),
    }
    metavar, text = helps[setting]
    return typer.Option(flag(f"{role}_{setting}"), metavar=metavar, help=text)


AttackerUrl = Annotated[str | None, _model_option("attacker", "url")]
AttackerModel = Annotated[str | None, _model_option("attacker", "model")]
AttackerTimeout = Annotated[float | None, _model_option("attacker", "timeout")]
AttackerVerify = Annotated[str | None, _model_option("attacker", "verify")]
JudgeUrl = Annotated[str | None, _model_option("judge", "url")]
JudgeModel = Annotated[str | None, _model_option("judge", "model")]
JudgeTimeout = Annotated[float | None, _model_option("judge", "timeout")]
JudgeVerify = Annotated[str | None, _model_option("judge", "verify")]


def model_settings(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The attacker's and judge's flags given, as campaign settings, each value checked.

    Args:
        flags: the command's parameters (its ``locals()``), named as the settings are
            (``judge_url``...), with the types above; the others are left alone.
    """
    out: dict[str, Any] = {}
    for role in MODEL_ROLES:
        timeout, verify = f"{role}_timeout", f"{role}_verify"
        out[f"{role}_url"], out[f"{role}_model"] = flags[f"{role}_url"], flags[f"{role}_model"]
        out[timeout] = timeout_flag(flags[timeout], flag(timeout))
        out[verify] = verify_flag(flags[verify], flag(verify))
    return {k: v for k, v in out.items() if v is not None}
