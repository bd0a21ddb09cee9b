"""The guardrail gateway: an OpenAI-compatible proxy that checks prompts and completions.

Build it with :func:`create_app` from a :class:`GatewayConfig` (see :func:`load_config`) and
serve it with any ASGI server; ``bastion gateway run`` runs uvicorn.
"""

from bastion.gateway._app import create_app
from bastion.gateway._config import (
    ENV_PREFIX,
    AuditConfig,
    ClassifierConfig,
    GatewayConfig,
    HoldConfig,
    LimitsConfig,
    ModerationsConfig,
    RedactConfig,
    RefusalConfig,
    RequestConfig,
    RouteConfig,
    StreamConfig,
    UpstreamConfig,
    load_config,
)
from bastion.gateway._guard import Check, Guard, outcome_of
from bastion.gateway._state import Gateway

__all__ = [
    "ENV_PREFIX",
    "AuditConfig",
    "Check",
    "ClassifierConfig",
    "Gateway",
    "GatewayConfig",
    "Guard",
    "HoldConfig",
    "LimitsConfig",
    "ModerationsConfig",
    "RedactConfig",
    "RefusalConfig",
    "RequestConfig",
    "RouteConfig",
    "StreamConfig",
    "UpstreamConfig",
    "create_app",
    "load_config",
    "outcome_of",
]
