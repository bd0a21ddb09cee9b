"""What the routes share: the policy catalogue, request limits, and the classifier."""

from __future__ import annotations

import logging
from functools import lru_cache

import anyio
import anyio.to_thread

from bastion.classify import Verdict, aclassify, classify, is_profile, tier_class
from bastion.errors import RuntimeFailure, UserError
from bastion.policy import Policy, builtin_policies, load_policy, parse_policy
from bastion.serve._errors import ApiError
from bastion.serve._settings import Settings

logger = logging.getLogger("bastion.serve")

_WARM_UP_TEXT = "Bastion readiness check."
_RETRY_MAX_S = 30.0


class Service:
    """The state one server holds: settings, loaded policies, and classifier readiness.

    Lifetime: one per app, built by :func:`~bastion.serve.create_app`; :meth:`load` runs in the
    background from the app's lifespan, and requests that need the classifier get 503 until
    it has finished.

    Args:
        settings: the server settings.

    Raises:
        ConfigError: the tier is not registered.
        PolicyError: the default policy or a built-in policy does not load.
    """

    def __init__(self, settings: Settings) -> None:
        if not is_profile(settings.tier):  # profiles are always there
            tier_class(settings.tier)
        self.settings = settings
        self.default = load_policy(settings.policy)
        catalog = {policy.id: policy for policy in map(load_policy, builtin_policies())}
        catalog[self.default.id] = self.default  # a configured file wins over a built-in id
        self.catalog = dict(sorted(catalog.items()))
        self.ready = False
        self.failure: str | None = None

    def policy(self, name: str | None, *, param: str) -> Policy:
        """The catalogue policy called ``name`` (the default for ``None``), or a 404."""
        if name is None:
            return self.default
        policy = self.catalog.get(name)
        if policy is None:
            raise ApiError(404, f"unknown policy {name!r}; available: {sorted(self.catalog)}",
                           code="policy_not_found", param=param)
        return policy

    async def inline_policy(self, text: str) -> Policy:
        """Parse a caller-supplied policy document, or raise a 4xx saying why it is refused.

        Raises:
            ApiError: inline policies are disabled, or the text is too long.
            PolicyError: the policy does not lint (the message carries the line), or it
                includes something other than a built-in policy (the loader refuses files).
        """
        if not self.settings.allow_inline_policies:
            raise ApiError(403, "inline policies are disabled on this server; name a policy "
                           f"instead: {sorted(self.catalog)}", code="inline_policy_disabled",
                           param="policy_text")
        limit = self.settings.max_policy_chars
        if len(text) > limit:
            raise ApiError(422, f"policy_text has {len(text)} characters; the limit is {limit}",
                           code="policy_too_large", param="policy_text")
        return await anyio.to_thread.run_sync(_parse_inline, text)

    def check_texts(self, texts: list[str], *, param: str, listed: bool) -> None:
        """Enforce the request limits: at least one text, not too many, none too long.

        Args:
            texts: the texts of the request.
            param: the request field they came from, named in errors.
            listed: the field is a list (errors then name the item, ``texts.3``).
        """
        if not texts:
            raise ApiError(422, f"{param} is empty; send at least one text",
                           code="empty_input", param=param)
        if len(texts) > self.settings.max_texts:
            raise ApiError(422, f"{param} has {len(texts)} texts; the limit is "
                           f"{self.settings.max_texts} per request; split the batch",
                           code="too_many_texts", param=param)
        limit = self.settings.max_text_chars
        for index, text in enumerate(texts):
            if len(text) > limit:
                raise ApiError(422, f"text #{index} has {len(text)} characters; the limit is "
                               f"{limit}; split the document", code="text_too_long",
                               param=f"{param}.{index}" if listed else param)

    async def classify(self, texts: list[str], policy: Policy) -> list[Verdict]:
        """Classify in a worker thread; 503 while the classifier is not ready."""
        if not self.ready:
            raise ApiError(503, "the classifier is not ready yet; retry shortly",
                           code="not_ready", headers={"Retry-After": "5"})
        settings = self.settings
        return await aclassify(texts, policy, tier=settings.tier, **settings.tier_options)

    async def load(self) -> None:
        """Build the classifier and classify one text; retry with back-off until it works.

        A settings mistake (unknown tier, bad option) is final: it is logged and reported by
        ``/readyz``, and the server stays unready.
        """
        delay = 1.0
        while True:
            try:
                await anyio.to_thread.run_sync(self._warm_up, abandon_on_cancel=True)
            except UserError as exc:
                self.failure = str(exc)
                logger.error("classifier cannot start: %s", exc)  # noqa: TRY400 - the message is the diagnosis
                return
            except Exception as exc:  # any crash while loading a model: retry, stay unready
                self.failure = f"{type(exc).__name__}: {exc}"
                logger.warning("classifier not ready (%s); retrying in %.0f s", self.failure,
                               delay)
            else:
                self.ready, self.failure = True, None
                logger.info("classifier %r ready", self.settings.tier)
                return
            await anyio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)

    def _warm_up(self) -> None:
        settings = self.settings
        verdict = classify([_WARM_UP_TEXT], self.default, tier=settings.tier,
                           **settings.tier_options)[0]
        if verdict.is_error:
            raise RuntimeFailure(f"warm-up verdict is an error: {verdict.error}")


@lru_cache(maxsize=32)
def _parse_inline(text: str) -> Policy:
    return parse_policy(text, source="<policy_text>")
