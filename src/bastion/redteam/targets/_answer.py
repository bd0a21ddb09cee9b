"""Why an HTTP target's answer holds no reply to read, in words that say what to fix.

A redirect, a stream of server-sent events and a web page are each answers a chat API gives
when the target is set up wrong (an old URL, streaming left on, a login page or a proxy's
challenge). Read as a reply, each was scored: an empty redirect as a refusal (every attack
"defended"), raw ``data: {...}`` lines or a login page as the model's words. Each is a
TargetError instead, saying which option to change; a plain-text answer the target was told
to read (``response_path`` empty) is read as before.
"""

from __future__ import annotations

import httpx

from bastion.redteam._config import public_url

_STREAM = ('is a stream of server-sent events (text/event-stream), but this target reads one '
           'whole answer: turn streaming off in the request (e.g. "stream": false in option '
           "'body')")


def redirected(shown: str, response: httpx.Response) -> str:
    """Why a 3xx is not followed, and where it points (``shown`` is the target's URL as
    messages show it)."""
    location = response.headers.get("location")
    if location is None:
        return (f"{shown} answered HTTP {response.status_code} without a Location, so no "
                f"reply: {response.text[:200]!r}; check option 'url'")
    # httpx reads the Location before us: one that is no URL fails the request earlier.
    where = public_url(str(response.url.join(location)))
    return (f"{shown} answered HTTP {response.status_code}, a redirect to {where[:200]}; set "
            "option 'url' to where it points (Bastion does not follow redirects: after a 301 "
            "or 302 the prompt in a POST's body would be dropped, and headers such as "
            "Authorization are not sent to another host)")


def streamed(shown: str, response: httpx.Response) -> str | None:
    """Why an answer of server-sent events cannot be read, or None for another answer."""
    if _kind(response) == "text/event-stream":
        return f"the answer from {shown} {_STREAM}"
    return None


def not_json(shown: str, response: httpx.Response, error: ValueError) -> str:
    """Why an answer that should be JSON cannot be read, and the fix its kind calls for."""
    begins = response.text[:80]
    if response.text.lstrip().startswith(("data:", "event:")):
        return f"the answer from {shown} {_STREAM}; it begins {begins!r}"
    if _kind(response) == "text/html":
        return (f"the answer from {shown} is not JSON but a web page (it begins {begins!r}): "
                "a login page or a proxy's challenge, not an API's answer; check that option "
                "'url' is the API and that option 'headers' carries its key")
    return (f"the answer from {shown} is not JSON ({error}; it begins {begins!r}); for an "
            "API that answers plain text, set option 'response_path' empty (-T response_path=)")


def _kind(response: httpx.Response) -> str:
    """The answer's media type, lower case, without its parameters."""
    kind: str = response.headers.get("content-type", "")
    return kind.partition(";")[0].strip().lower()
