"""How an HTTP-based target checks the endpoint's TLS certificate: option ``verify``.

A staging endpoint often has a certificate from an internal CA, or a self-signed one, which
the public roots httpx trusts by default refuse. ``verify`` takes:

* ``true`` (the default): the public roots (httpx's own default, ``SSL_CERT_FILE`` honoured);
* the path of a CA bundle (PEM): only the CAs in that file are trusted, as ``curl --cacert``
  does. The file is read when the target is made, so a wrong path is a configuration error
  before any request, never an error on every attempt;
* ``false``: no check at all. A security tool that silently stops checking TLS is a defect,
  so this logs a warning when the target is made (once per campaign: a campaign makes its
  target once), and the campaign's header keeps the option (its report says so, see
  :func:`bastion.redteam.reports.campaign_facts`).

The context is built with :func:`ssl.create_default_context` and passed as httpx's
``verify=``; httpx 0.28 deprecated a path given there as text.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx

from bastion.errors import ConfigError

logger = logging.getLogger("bastion.redteam")

#: Texts YAML reads as yes/no when unquoted: quoted in a campaign file they arrive as a path.
_YES_NO = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})
#: How a target's option is set, as messages say it; the attacker and judge models pass
#: their campaign setting instead (``judge_verify: ``).
TARGET_OPTION = "-T verify="


def _forms(fix: str) -> str:
    return ("true (the public roots, the default), false (no check: not recommended), or the "
            f"path of a PEM file holding your CA's certificate ({fix}/etc/ssl/internal-ca.pem)")


def tls_verify(verify: bool | str, shown: str, where: str,
               fix: str = TARGET_OPTION) -> ssl.SSLContext | bool:
    """What to pass as httpx's ``verify=`` for option ``verify``, or a ConfigError saying
    what is wrong with it (``shown``: the endpoint as messages show it; ``where``: the
    option's name in messages; ``fix``: how the option is written, before its value)."""
    if verify is True:
        return True
    if verify is False:
        logger.warning("TLS certificate checks are OFF for %s (%s is false): anyone on the "
                       "path can read and change the prompts and answers, so this campaign's "
                       "verdicts may not be about the endpoint you meant. Give its CA instead "
                       "(%s/path/to/ca.pem). The report records that TLS was not "
                       "checked.", shown, where, fix)
        return False
    return _context(verify, where, fix)


def _context(verify: str, where: str, fix: str) -> ssl.SSLContext:
    """An SSL context trusting the CA bundle at ``verify``, or a ConfigError naming it."""
    if not verify.strip():
        raise ConfigError(f"{where} is empty; give {_forms(fix)}")
    path = Path(verify).expanduser()
    if not path.exists():
        quoted = (f"; {verify!r} was read as text: write it unquoted for yes/no"
                  if verify.strip().lower() in _YES_NO else "")
        raise ConfigError(f"{where} names CA bundle {verify!r}, which does not exist (paths "
                          f"are read from the folder the campaign runs in, {str(Path.cwd())!r})"
                          f"; give {_forms(fix)}{quoted}")
    if path.is_dir():
        raise ConfigError(f"{where} names {verify!r}, a folder; give the PEM file itself "
                          "(put several CAs in one file, one after another)")
    try:
        return ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as exc:  # a file with no PEM certificate in it
        raise ConfigError(f"{where} names {verify!r}, which holds no CA certificate Python "
                          f"can read ({exc.reason or exc}); give a PEM file (text that begins "
                          "'-----BEGIN CERTIFICATE-----'); convert a DER one with 'openssl "
                          "x509 -inform der -in ca.der -out ca.pem'") from exc
    except OSError as exc:  # unreadable: permissions
        raise ConfigError(f"{where} names CA bundle {verify!r}, which cannot be read "
                          f"({exc.strerror or exc}); make it readable by the user running "
                          "the campaign") from exc


def untrusted(shown: str, error: httpx.HTTPError, fix: str = TARGET_OPTION) -> str | None:
    """Why the endpoint's certificate was refused and what to do, or None for a failure that
    is not a certificate check (retrying a refused certificate only fails again)."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    return (f"the TLS certificate of {shown} was refused ({cause.verify_message or cause}): "
            "for an endpoint with an internal CA or a self-signed certificate, give the CA's "
            f"certificate ({fix}/path/to/ca.pem); for a name mismatch, use the host name "
            f"the certificate was issued for; {fix}false turns the check off (not "
            "recommended: the report says so)")
