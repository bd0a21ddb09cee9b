"""Split a policy document into front matter and body, and read rules and examples from the body.

Everything here reports problems as :class:`LintIssue` values with a 1-based line number; the
loader decides which of them are fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from bastion.policy._model import RULE_ID_RE, Example, Rule, rule_category

REQUIRED_SECTIONS = ("Instructions", "Definitions", "Criteria", "Examples")

_SECTION_RE = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_SUBSECTION_RE = re.compile(r"^###\s+(.+?)\s*#*\s*$")
_RULE_RE = re.compile(r"^\s*[-*]\s+\*\*([A-Z][A-Z0-9]*-[A-Z0-9]+)\*\*[:.]?\s*(.*)$")
_EXAMPLE_RE = re.compile(
    r"^\s*[-*]\s+(violates|safe)\s+([A-Z][A-Z0-9]*-[A-Z0-9]+)\s*:\s*(.+?)\s*$", re.IGNORECASE
)
_BULLET_RE = re.compile(r"^\s*[-*]\s+\S")


@dataclass(frozen=True)
class LintIssue:
    """One problem found in a policy file."""

    severity: Literal["error", "warning"]
    line: int | None
    message: str

    def render(self, source: str) -> str:
        """``file:line: severity: message``, the shape editors and CI logs understand."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Document:
    """A policy file split into its parts."""

    front: dict[str, Any] | None
    front_node: yaml.MappingNode | None
    body: str
    body_line: int  # 1-based line number where the body starts
    sections: dict[str, int]  # section title -> 1-based line number


def split_document(text: str, issues: list[LintIssue]) -> Document:
    """Separate the YAML front matter from the Markdown body."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        issues.append(
            LintIssue("error", 1, "no front matter; start the file with a '---' line, the YAML "
                      "keys id/version/title/categories, then another '---' line")
        )
        return Document(None, None, text, 1, _sections(lines, 1))
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        issues.append(
            LintIssue("error", 1, "front matter is not closed; add a '---' line after it")
        )
        return Document(None, None, "", len(lines), {})
    yaml_text = "\n".join(lines[1:end])
    front, node = _load_yaml(yaml_text, issues)
    body = "\n".join(lines[end + 1 :])
    return Document(front, node, body, end + 2, _sections(lines[end + 1 :], end + 2))


def _load_yaml(
    yaml_text: str, issues: list[LintIssue]
) -> tuple[dict[str, Any] | None, yaml.MappingNode | None]:
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        issues.append(LintIssue("error", line, f"front matter is not valid YAML: {problem}; "
                                f"check the indentation and quotes near line {line}"))
        return None, None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        issues.append(LintIssue("error", 2, "front matter must be a YAML mapping of keys, "
                                "such as 'id: my-policy' on its own line"))
        return None, None
    return data, node


def _sections(lines: list[str], first_line: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for offset, line in enumerate(lines):
        match = _SECTION_RE.match(line)
        if match:
            found.setdefault(match.group(1).strip(), first_line + offset)
    return found


def line_of(node: yaml.MappingNode | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based file line of a front-matter location (front matter starts on line 2)."""
    current: yaml.Node | None = node
    line = None if node is None else node.start_mark.line + 2
    for key in loc:
        if isinstance(current, yaml.MappingNode):
            match = next((v for k, v in current.value if getattr(k, "value", None) == key), None)
            if match is None:
                key_node = next(
                    (k for k, _ in current.value if getattr(k, "value", None) == key), None
                )
                return key_node.start_mark.line + 2 if key_node is not None else line
            line = next(k for k, _ in current.value if k.value == key).start_mark.line + 2
            current = match
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(current.value):
                return line
            current = current.value[key]
            line = current.start_mark.line + 2
        else:
            return line
    return line


def section_lines(doc: Document, title: str) -> list[tuple[int, str]]:
    """The (line number, text) pairs of one ``##`` section of the body."""
    start = doc.sections.get(title)
    if start is None:
        return []
    body_lines = doc.body.splitlines()
    out: list[tuple[int, str]] = []
    for index in range(start - doc.body_line + 1, len(body_lines)):
        if _SECTION_RE.match(body_lines[index]):
            break
        out.append((doc.body_line + index, body_lines[index]))
    return out


_CONTINUATION_RE = re.compile(r"^\s+\S")


def bullets(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Lines with each bullet's indented continuation lines joined onto it (Markdown list
    items wrap), so a rule or example written over several lines is read whole."""
    out: list[tuple[int, str]] = []
    for line_no, line in lines:
        if (out and _CONTINUATION_RE.match(line) and not _BULLET_RE.match(line)
                and _BULLET_RE.match(out[-1][1])):
            out[-1] = (out[-1][0], out[-1][1].rstrip() + " " + line.strip())
        else:
            out.append((line_no, line))
    return out


def read_rules(doc: Document, issues: list[LintIssue]) -> list[Rule]:
    """Rules from the Criteria section, under ``### Violates`` / ``### Does not violate``."""
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    violates: bool | None = None
    for line_no, line in bullets(section_lines(doc, "Criteria")):
        sub = _SUBSECTION_RE.match(line)
        if sub:
            title = sub.group(1).strip().lower()
            violates = not (title.startswith(("does not", "doesn't", "not ", "safe", "allowed")))
            continue
        match = _RULE_RE.match(line)
        if not match:
            if _BULLET_RE.match(line) and violates is not None:
                issues.append(LintIssue("warning", line_no, "criteria bullet has no rule id; "
                                        "start it with a bold id such as '**VIO-1**'"))
            continue
        rule_id, text = match.group(1), match.group(2).strip()
        if not RULE_ID_RE.match(rule_id):
            issues.append(LintIssue("error", line_no, f"rule id {rule_id!r} must look like "
                                    "'CODE-1' (category code, dash, number)"))
            continue
        if violates is None:
            issues.append(LintIssue("error", line_no, f"rule {rule_id!r} is outside a "
                                    "'### Violates' or '### Does not violate' subsection; "
                                    "move it under one of them"))
            continue
        if rule_id in seen:
            issues.append(LintIssue("error", line_no, f"duplicate rule id {rule_id!r} (first on "
                                    f"line {seen[rule_id]}); give each rule its own id"))
            continue
        seen[rule_id] = line_no
        rules.append(Rule(rule_id, rule_category(rule_id), text, violates, line_no))
    return rules


def read_examples(doc: Document, issues: list[LintIssue]) -> list[Example]:
    """Labelled examples: ``- violates VIO-1: "text"`` or ``- safe VIO-S1: "text"``."""
    examples: list[Example] = []
    for line_no, line in bullets(section_lines(doc, "Examples")):
        match = _EXAMPLE_RE.match(line)
        if not match:
            if _BULLET_RE.match(line):
                issues.append(LintIssue("warning", line_no, "example bullet is not labelled; "
                                        "write '- violates CODE-1: \"text\"' or "
                                        "'- safe CODE-S1: \"text\"'"))
            continue
        label, rule_id, text = match.group(1).lower(), match.group(2), match.group(3)
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        examples.append(Example(text, label == "violates", rule_id, rule_category(rule_id),
                                line_no))
    return examples
