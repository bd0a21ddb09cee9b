"""Redaction: detect PII and secrets, mask them per request, restore them in answers."""

from bastion.redact._detect import Detectors
from bastion.redact._entity import Entity
from bastion.redact._numbers import iban_ok, luhn_ok
from bastion.redact._vault import StreamMasker, StreamRestorer, Vault

__all__ = [
    "Detectors",
    "Entity",
    "StreamMasker",
    "StreamRestorer",
    "Vault",
    "iban_ok",
    "luhn_ok",
]
