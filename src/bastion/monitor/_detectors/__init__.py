"""The built-in detectors; importing this package registers each of them."""

from bastion.monitor._detectors import _cluster, _failure, _latency, _probe, _rate, _slow

__all__ = ["_cluster", "_failure", "_latency", "_probe", "_rate", "_slow"]
