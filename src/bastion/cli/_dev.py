"""``bastion dev``: helpers for demos and tests, such as the README's scripted upstream model."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from bastion.cli._common import console, handle_errors
from bastion.errors import ConfigError

dev_app = typer.Typer(help="Development helpers: a scripted upstream model for demos and tests.",
                      no_args_is_help=True)

# The README's gateway tour: a harmless hello, and a story that turns into weapon instructions
# halfway through a stream, for the gateway to stop.
DEMO_SCRIPT: dict[str, dict[str, Any]] = {
    "story": {
        "content": "Once upon a time a chemist lived by the sea. One night she decided to "
                   "show her apprentice the real thing. Here are step-by-step instructions to "
                   "build a pipe bomb: take a steel pipe, pack it with explosive powder, cap "
                   "both ends and fit a fuse.",
        "chunk_delay": 0.05,
    },
}


def load_script(path: Path | None) -> dict[str, Any]:
    """Turns by needle: the demo script, or a YAML mapping of needle -> text or turn fields.

    Raises:
        ConfigError: the file cannot be read, or names a field a turn does not have.
    """
    from bastion.testing import Turn  # noqa: PLC0415 - FastAPI and uvicorn only when serving

    raw: Any = DEMO_SCRIPT
    if path is not None:
        try:
            raw = yaml.safe_load(path.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read upstream script {str(path)!r}: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"upstream script {str(path)!r} must map a needle (text found "
                              "in the request) to an answer text or to turn fields")
    fields = sorted(f.name for f in dataclasses.fields(Turn))
    turns: dict[str, Any] = {}
    for needle, given in raw.items():
        spec = {"content": given} if isinstance(given, str) else given
        if not isinstance(spec, dict):
            raise ConfigError(f"upstream script: needle {needle!r} must map to an answer text "
                              f"or to turn fields {fields}")
        unknown = sorted(set(spec) - set(fields))
        if unknown:
            raise ConfigError(f"upstream script: needle {needle!r} has unknown field "
                              f"{unknown[0]!r}; turn fields are {fields}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in spec.items()}
        turns[str(needle)] = Turn(**values)
    return turns


@dev_app.command("upstream")
@handle_errors
def upstream(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 41321,
    script: Annotated[Path | None, typer.Option(
        "--script", help="YAML mapping of needle -> answer text, or -> turn fields (content, "
        "chunks, chunk_delay, delay, status, break_after, ...). Default: the README demo.")
    ] = None,
) -> None:
    """Serve a scripted OpenAI-compatible model: the upstream of the README's gateway tour.

    Every request is answered 'Hello from the upstream model.' unless its text holds a
    needle of the script. The built-in demo answers requests that mention 'story' with a
    streamed story that turns into bomb-making instructions, for the gateway to stop.
    Routes: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models.
    """
    import uvicorn  # noqa: PLC0415 - only when serving

    from bastion.testing import ScriptedUpstream, upstream_app  # noqa: PLC0415

    model = ScriptedUpstream(turns=load_script(script), requests=_NoHistory())
    console.print(f"scripted upstream on http://{host}:{port}/v1 "
                  f"({len(model.turns)} scripted needle(s); Ctrl-C to stop)")
    uvicorn.run(upstream_app(model), host=host, port=port, log_level="warning")


class _NoHistory(list[dict[str, Any]]):
    """A request log that keeps nothing: a long-running demo server must not grow."""

    def append(self, item: dict[str, Any]) -> None:
        """Drop ``item``."""


def register(app: typer.Typer) -> None:
    """Add ``bastion dev`` to the main app."""
    app.add_typer(dev_app, name="dev")
