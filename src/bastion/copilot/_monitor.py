"""Reading the monitor's incidents (:mod:`bastion.monitor`) as the co-pilot's :class:`Incident`.

The monitor's alerts may name several accounts; the co-pilot's playbooks reason per account,
so an account-level alert becomes one co-pilot alert per account it names. A cluster alert
(one attack text spreading across accounts) stays one alert with no owning account: the
accounts in a cluster are not proposed for suspension on that evidence alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bastion.copilot._incident import Alert, Incident
from bastion.monitor import Alert as MonitorAlert
from bastion.monitor import Incident as MonitorIncident

#: Monitor detector name -> the co-pilot's alert kind.
KINDS = {"block-rate": "block_rate", "cluster-spread": "cluster", "category-probe": "probing",
         "slow-attacker": "slow_attacker", "failure-spike": "fail_open",
         "latency-spike": "latency_spike"}


def from_monitor(incident: MonitorIncident) -> Incident:
    """The co-pilot's view of a monitor incident."""
    alerts: list[Alert] = []
    for alert in incident.alerts:
        alerts.extend(_alerts(alert))
    return Incident(incident.id, incident.title, tuple(alerts))


def _alerts(alert: MonitorAlert) -> list[Alert]:
    kind = KINDS.get(alert.detector, alert.detector)
    at = datetime.fromtimestamp(alert.at, UTC)
    category = alert.categories[0] if alert.categories else None
    count = int(alert.measures.get("observed", 0)) or max(len(alert.evidence), 1)
    if kind == "cluster" or not alert.accounts:
        return [Alert(alert.id, kind, alert.severity, alert.summary, at, category=category,
                      count=count, evidence=tuple(e.sample for e in alert.evidence if e.sample))]
    made = []
    for account in alert.accounts:
        mine = [e for e in alert.evidence if e.account_id == account]
        keys = sorted({e.key_id for e in mine if e.key_id})
        if not keys and len(alert.accounts) == 1:
            keys = sorted(alert.key_ids)
        made.append(Alert(f"{alert.id}:{account}" if len(alert.accounts) > 1 else alert.id,
                          kind, alert.severity, alert.summary, at, account_id=account,
                          key_id=keys[0] if len(keys) == 1 else None, category=category,
                          count=max(len(mine), 1) if len(alert.accounts) > 1 else count,
                          evidence=tuple(e.sample for e in mine if e.sample)))
    return made
