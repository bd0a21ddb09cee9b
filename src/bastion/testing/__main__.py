"""``python -m bastion.testing``: serve the scripted model (fake heuristic) for demos."""

from __future__ import annotations

import argparse

import uvicorn

from bastion.testing._app import create_app
from bastion.testing._script import ScriptedChatModel


def main(argv: list[str] | None = None) -> None:
    """Parse ``--host``/``--port``/``--model`` and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bastion.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--model", default="scripted")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(ScriptedChatModel(model=args.model)), host=args.host, port=args.port,
                lifespan="off", ws="none")


if __name__ == "__main__":
    main()
