"""Reports: a campaign's attempts rendered for people (Markdown, HTML) and machines (JSON,
JUnit, SARIF).

Contract: a renderer is a function ``(summary, header, attempts) -> str`` (JUnit and SARIF
take the attempts and header); hostile text is escaped for its format, never trusted. Add a
format by adding its renderer and one line to :data:`FORMATS` in :mod:`._write`.
"""

from bastion.redteam.reports._findings import Finding, campaign_facts, findings, target_line
from bastion.redteam.reports._write import FORMATS, Format, render, write_reports

__all__ = ["FORMATS", "Finding", "Format", "campaign_facts", "findings", "render",
           "target_line", "write_reports"]
