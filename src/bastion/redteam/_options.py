"""The options a plugin takes, read from its constructor and docstring: listed by ``bastion
redteam list`` and ``run --help``, and checked before the plugin is built (by the registry and
the CLI alike) so a wrong or missing one is reported by name.

The constructor's signature says which options exist, which are required and their defaults;
the Google-style ``Args:`` section of the class docstring says what each one means. Options
that only Python callers can pass (an httpx ``transport``) are left out.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, PydanticUserError, TypeAdapter, ValidationError
from pydantic_core import SchemaError

from bastion.errors import ConfigError

_PYTHON_ONLY = frozenset({"transport"})
_ARG = re.compile(r"^\s{4,}(\w+):\s*(.*)$")
_ROLE = re.compile(r":\w+:`~?(?:[\w.]+\.)?(\w+)`")  # :class:`~bastion.redteam.Message` -> Message


@dataclass(frozen=True)
class PluginOption:
    """One keyword option of a plugin.

    Attributes:
        name: the keyword, as given to ``-T name=value``.
        required: the plugin cannot be made without it.
        default: its default, shown in help (``None`` when required).
        doc: what it means, from the class docstring ("" when undocumented).
    """

    name: str
    required: bool
    default: Any
    doc: str

    def render(self) -> str:
        """``base_url (required): the API root, ending in /v1.``"""
        shown = repr(self.default)
        state = "required" if self.required else (
            f"default {shown}" if len(shown) <= 40 else "has a default")
        return f"{self.name} ({state})" + (f": {self.doc}" if self.doc else "")


def options_help(kind: str, classes: dict[str, type[Any]]) -> str:
    """Each plugin's options as help text (click keeps lines that follow a ``\\b`` line)."""
    blocks = []
    for name, cls in classes.items():
        lines = [f"  {o.render()}" for o in plugin_options(cls)] or ["  (no options)"]
        blocks.append("\b\n" + f"{kind} {name!r}, options given as -T key=value:\n"
                      + "\n".join(lines))
    return "\n\n".join(blocks)


def plugin_options(cls: type[Any]) -> list[PluginOption]:
    """The options of ``cls``, in signature order, following ``**options`` into base classes."""
    return _read(cls)[0]


def _read(cls: type[Any]) -> tuple[list[PluginOption], bool]:
    """The options, and whether the constructor chain ends open (``**options`` that reach no
    base constructor: any option is accepted, so none can be called unknown)."""
    found: dict[str, PluginOption] = {}
    open_ended = False
    for klass in cls.__mro__:
        if klass is object:
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        docs = _arg_docs(klass.__doc__ or "")
        params = list(inspect.signature(init).parameters.values())[1:]
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in _PYTHON_ONLY:
                continue
            if p.name not in found:
                required = p.default is inspect.Parameter.empty
                found[p.name] = PluginOption(p.name, required, None if required else p.default,
                                             docs.get(p.name, ""))
            elif not found[p.name].doc and docs.get(p.name):
                old = found[p.name]
                found[p.name] = PluginOption(old.name, old.required, old.default, docs[p.name])
        open_ended = any(p.kind is p.VAR_KEYWORD for p in params)
        if not open_ended:
            break
    return list(found.values()), open_ended


def check_options(kind: str, name: str, cls: type[Any], given: Mapping[str, Any]) -> None:
    """Raise a ConfigError naming the option when one is missing or unknown.

    Args:
        kind: the plugin kind in the singular (``target``, ``probe``, ``strategy`` ...).
        name: the plugin's registry name.
        cls: its class.
        given: the options it is about to be built with.

    Raises:
        ConfigError: a required option is not given, or a given one does not exist.
    """
    found, open_ended = _read(cls)
    options = {o.name: o for o in found}
    unknown = [] if open_ended else sorted(set(given) - set(options) - _PYTHON_ONLY)
    if unknown:
        raise ConfigError(f"{kind} {name!r} has no option {unknown[0]!r}; its options are "
                          f"{sorted(options)} (see 'bastion redteam list "
                          f"{'strategies' if kind == 'strategy' else kind + 's'}')")
    for option in options.values():
        if option.required and option.name not in given:
            about = f" ({option.doc.rstrip('.')})" if option.doc else ""
            how = (f"add -T {option.name}=VALUE" if kind == "target"
                   else f"set {option.name!r} in the config's {kind} options")
            raise ConfigError(f"{kind} {name!r} needs option {option.name!r}{about}; {how}")


def coerce_text(kind: str, name: str, cls: type[Any], given: Mapping[str, Any]
                ) -> dict[str, Any]:
    """``given`` with numbers turned back into text for the options that take text.

    Option values are read as YAML (``-P probe.option=VALUE`` or a config file), so
    ``purpose=12345`` arrives as a number; an option declared ``str`` gets ``"12345"``.

    Raises:
        ConfigError: a yes/no value, a mapping or a list given to a text option (YAML reads
            ``yes`` as true and ``{"q": "{prompt}"}`` as a mapping), named.
    """
    text = text_options(cls)
    out = dict(given)
    for key, value in given.items():
        if key not in text or isinstance(value, str):
            continue
        if isinstance(value, bool):
            raise ConfigError(f"{kind} {name!r} option {key!r} takes text, but {value!r} was "
                              f"read as yes/no; quote it (e.g. {key}='\"yes\"')")
        if isinstance(value, dict | list):
            raise ConfigError(f"{kind} {name!r} option {key!r} takes text (a template), but "
                              f"it was read as a {type(value).__name__}: {value!r}; quote the "
                              "whole value in the config file")
        if isinstance(value, int | float):
            out[key] = str(value)
    return out


def check_types(kind: str, name: str, cls: type[Any], given: Mapping[str, Any]) -> None:
    """Raise a ConfigError naming an option whose value is not of its declared type.

    ``-T timeout=abc`` or ``-T headers=abc`` would otherwise fail deep inside the plugin (a
    traceback at the first request, or a frozenset of letters for ``blocked_status=abc``).
    An annotation that cannot be resolved or checked (a protocol) is not checked.
    """
    hints = _hints(cls)
    for key, value in given.items():
        if key not in hints:
            continue
        try:
            adapter = TypeAdapter(hints[key], config=_ANY_TYPE)
            adapter.validate_python(value)
        except ValidationError as exc:
            wanted = (hints[key].__name__ if isinstance(hints[key], type) else
                      str(hints[key]).replace("typing.", "").replace("collections.abc.", ""))
            raise ConfigError(f"{kind} {name!r} option {key!r} takes {wanted}, not {value!r} "
                              f"({exc.errors()[0]['msg']}){_as_list(adapter, key, value)}"
                              ) from exc
        except (PydanticUserError, SchemaError, TypeError):  # a protocol: not checkable
            continue


_ANY_TYPE = ConfigDict(arbitrary_types_allowed=True)


def _as_list(adapter: TypeAdapter[Any], key: str, value: Any) -> str:
    """'; write a list: key=[value]' when one value was given where a list is taken
    (``-T blocked_status=403``, ``-T canaries=ACCT-1``), else ''."""
    try:
        adapter.validate_python([value])
    except (ValidationError, TypeError):
        return ""
    return f"; write a list: {key}=[{value}]"


def _hints(cls: type[Any]) -> dict[str, Any]:
    """Each constructor option's resolved annotation, from the class that defines it first."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if klass is object or init is None:
            continue
        try:
            found = typing.get_type_hints(init)
        except (NameError, TypeError):  # an annotation only a type checker can resolve
            continue
        hints.update((k, v) for k, v in found.items() if k != "return")
    return hints


def text_options(cls: type[Any]) -> set[str]:
    """Names of the options of ``cls`` (and its bases) declared as ``str`` or ``str | None``."""
    return {p.name for klass in cls.__mro__ if klass is not object
            for p in _init_params(klass) if _text(p.annotation)}


def _text(annotation: object) -> bool:
    if annotation is str:
        return True
    parts = {part.strip() for part in str(annotation).split("|")}
    return isinstance(annotation, str) and "str" in parts and parts <= {"str", "None"}


def _init_params(klass: type[Any]) -> list[inspect.Parameter]:
    init = klass.__dict__.get("__init__")
    return [] if init is None else list(inspect.signature(init).parameters.values())[1:]


def _arg_docs(doc: str) -> dict[str, str]:
    """``{name: text}`` from the ``Args:`` section of a Google-style docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return {}
    docs: dict[str, str] = {}
    current = None
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith(" "):
            break  # the next section
        match = _ARG.match(line)
        if match and len(line) - len(line.lstrip()) == 4:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current and line.strip():
            docs[current] += " " + line.strip()
    return {k: _ROLE.sub(r"\1", v).replace("``", "'") for k, v in docs.items()}
