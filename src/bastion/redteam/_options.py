"""A plugin's options, read from its constructor: listed by ``bastion redteam list``, checked
before the plugin is built so a wrong name is reported by name."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.errors import ConfigError

HIDDEN = frozenset({"transport"})  # test seams, never set from a config or the command line
_ARG = re.compile(r"^\s{4,}(\w+):\s*(.*)$")


@dataclass(frozen=True)
class PluginOption:
    """One keyword option of a plugin.

    Attributes:
        name: the keyword.
        required: it has no default.
        default: the default as written in a config (``""`` when required).
        doc: the first line of its description in the class docstring.
    """

    name: str
    required: bool
    default: str
    doc: str

    def render(self) -> str:
        """``name`` (required) or ``name=default``."""
        return f"{self.name} (required)" if self.required else f"{self.name}={self.default}"


def _docs(cls: type) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (inspect.getdoc(cls) or "").splitlines():
        match = _ARG.match("    " + line) if line.startswith("    ") else None
        if match and match.group(1) not in found:
            found[match.group(1)] = match.group(2)
    return found


def _params(cls: type) -> tuple[list[inspect.Parameter], bool]:
    """Constructor parameters, following ``**options`` into the parent class's constructor."""
    init = getattr(cls, "__init__")  # noqa: B009 - mypy rejects cls.__init__ on a type
    params = list(inspect.signature(init).parameters.values())[1:]
    own = [p for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        return own, False
    parent = next((b for b in cls.__mro__[1:] if "__init__" in vars(b)), object)
    if parent is object:
        return own, True
    inherited, open_ended = _params(parent)
    names = {p.name for p in own}
    return own + [p for p in inherited if p.name not in names], open_ended


def plugin_options(cls: type) -> list[PluginOption]:
    """The options a plugin class takes, in constructor order (test seams left out)."""
    docs = {k: v for b in reversed(cls.__mro__) for k, v in _docs(b).items()}
    out = []
    for param in _params(cls)[0]:
        if param.name in HIDDEN:
            continue
        required = param.default is inspect.Parameter.empty
        default = "" if required else repr(param.default)
        out.append(PluginOption(param.name, required, default, docs.get(param.name, "")))
    return out


def check_options(what: str, cls: type, options: Mapping[str, Any]) -> None:
    """Raise ConfigError naming any unknown or missing option of ``cls``."""
    params, open_ended = _params(cls)
    if open_ended:
        return
    known = [o.name for o in plugin_options(cls)]
    unknown = sorted(set(options) - {p.name for p in params})
    if unknown:
        raise ConfigError(f"{what} has no option {unknown[0]!r}; its options: "
                          f"{', '.join(known) or 'none'}")
    missing = [o.name for o in plugin_options(cls) if o.required and o.name not in options]
    if missing:
        where = (f"-T {missing[0]}=... or the config's target_options"
                 if what.startswith("target") else "the config's options")
        raise ConfigError(f"{what} needs option {missing[0]!r}; set it with {where}")
