"""Load, lint and merge policy files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from bastion.errors import PolicyError
from bastion.policy._hints import hint_for
from bastion.policy._model import Category, Example, FrontMatter, Policy, Rule
from bastion.policy._parse import (
    REQUIRED_SECTIONS,
    Document,
    LintIssue,
    line_of,
    read_examples,
    read_rules,
    split_document,
)
from bastion.policy._patterns import PatternError, compile_pattern

MAX_POLICY_BYTES = 256 * 1024
_PACK = "bastion.policy.pack"
_BUILTIN_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def builtin_policies() -> list[str]:
    """Ids of the policies shipped with Bastion, sorted."""
    pack = resources.files(_PACK)
    return sorted(p.name[:-3] for p in pack.iterdir() if p.name.endswith(".md"))


def builtin_path(policy_id: str) -> Path:
    """Filesystem path of a built-in policy, or raise :class:`PolicyError`."""
    if not _BUILTIN_ID.match(policy_id):
        raise PolicyError(f"{policy_id!r} is not a built-in policy id (lower-case letters, "
                          f"digits and '_'); choose one of {builtin_policies()}",
                          source=policy_id)
    candidate = resources.files(_PACK) / f"{policy_id}.md"
    if not candidate.is_file():
        raise PolicyError(
            f"no built-in policy {policy_id!r}; choose one of {builtin_policies()} or give a "
            "path to a .md file",
            source=policy_id,
        )
    return Path(str(candidate))


def builtin_testset(policy_id: str) -> Path | None:
    """The labelled JSONL test set shipped beside a built-in policy, if any."""
    candidate = resources.files(_PACK) / "tests" / f"{policy_id}.jsonl"
    return Path(str(candidate)) if candidate.is_file() else None


def resolve(spec: str | Path) -> Path:
    """Turn a policy argument (a path, or the id of a built-in policy) into a path."""
    path = Path(spec)
    if path.suffix == ".md" or path.exists():
        if not path.is_file():
            raise PolicyError("file not found; check the path", source=str(spec))
        return path
    return builtin_path(str(spec))


def load_policy(spec: str | Path | Policy) -> Policy:
    """Load a policy from a path or a built-in id, merging its includes.

    Raises:
        PolicyError: the file is missing or has lint errors (the first one is reported; run
            ``bastion policy lint`` for all of them).
    """
    if isinstance(spec, Policy):
        return spec
    path = resolve(spec).resolve()
    cached = _cache.get(path)
    if cached is not None and all(_mtime(dep) == stamp for dep, stamp in cached[1]):
        return cached[0]
    deps: list[Path] = []
    policy = _load_path(path, chain=(), deps=deps)
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[path] = (policy, tuple((dep, _mtime(dep)) for dep in deps))
    return policy


# Loaded policies by path, with the modification time of every file they were built from, so
# an edit to an included file is picked up too.
_CACHE_SIZE = 64
_cache: dict[Path, tuple[Policy, tuple[tuple[Path, int], ...]]] = {}


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read file: {exc.strerror}", source=str(path)) from exc
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"file is {len(data)} bytes; policies are limited to "
                          f"{MAX_POLICY_BYTES} bytes", source=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                          source=str(path)) from exc


def _load_path(path: Path, chain: tuple[str, ...], deps: list[Path] | None = None) -> Policy:
    if deps is not None:
        deps.append(path)
    text = _read(path)
    issues, front, doc = _check(text)
    errors = [i for i in issues if i.severity == "error"]
    if errors or front is None:
        first = errors[0] if errors else LintIssue("error", None, "front matter is missing")
        more = ""
        if len(errors) > 1:
            more = f" ({len(errors) - 1} more; run 'bastion policy lint {path}')"
        raise PolicyError(first.message + more, source=str(path), line=first.line)
    return _assemble(path, text, front, doc, chain, deps)


def _assemble(
    path: Path, text: str, front: FrontMatter, doc: Document, chain: tuple[str, ...],
    deps: list[Path] | None = None,
) -> Policy:
    rules = read_rules(doc, [])
    examples = read_examples(doc, [])
    categories = list(front.categories)
    bodies = [doc.body.strip()]
    digest = hashlib.sha256(text.encode("utf-8"))
    if front.id in chain:
        raise PolicyError(f"include cycle: {' -> '.join([*chain, front.id])}", source=str(path))
    for name in front.include:
        target = _include_target(path, name, allow_files=deps is not None)
        child = _load_path(target, (*chain, front.id), deps)
        clash = {c.code for c in categories} & {c.code for c in child.categories}
        if clash:
            raise PolicyError(f"included policy {name!r} redefines categories {sorted(clash)}; "
                              "each category code may appear once", source=str(path))
        categories.extend(child.categories)
        rules.extend(child.rules)
        examples.extend(child.examples)
        bodies.append(child.body.strip())
        digest.update(child.hash.encode("ascii"))
    return Policy(
        id=front.id, version=front.version, title=front.title,
        categories=tuple(categories), rules=tuple(rules), examples=tuple(examples),
        body="\n\n".join(b for b in bodies if b), hash=digest.hexdigest(), source=str(path),
        escalate=front.escalate, description=front.description, includes=tuple(front.include),
    )


def _include_target(path: Path, name: str, *, allow_files: bool) -> Path:
    """Resolve one ``include:`` entry: a built-in id, or (from a file) a sibling ``.md`` file.

    Policies parsed from a string (e.g. sent over HTTP) may include built-in policies only, so
    a caller can never make Bastion read a file of its choosing. File includes must stay inside
    the including file's folder.
    """
    if not name.endswith(".md"):
        return builtin_path(name)
    if not allow_files:
        raise PolicyError(f"include {name!r}: a policy given as text may include built-in "
                          f"policies only ({builtin_policies()})", source=str(path))
    folder = path.parent.resolve()
    target = (folder / name).resolve()
    if not target.is_relative_to(folder):
        raise PolicyError(f"include {name!r} points outside the policy's folder {str(folder)!r}",
                          source=str(path))
    return target


def parse_policy(text: str, source: str = "<string>") -> Policy:
    """Load a policy from a string; it may include built-in policies only, never files."""
    issues, front, doc = _check(text)
    errors = [i for i in issues if i.severity == "error"]
    if errors or front is None:
        first = errors[0] if errors else LintIssue("error", None, "front matter is missing")
        raise PolicyError(first.message, source=source, line=first.line)
    return _assemble(Path(source), text, front, doc, ())


def lint_policy(spec: str | Path) -> list[LintIssue]:
    """Every problem in a policy file, errors first; an empty list means it is clean."""
    path = resolve(spec)
    return _lint(_read(path), path, allow_files=True)


def lint_text(text: str, source: str = "<string>") -> list[LintIssue]:
    """Every problem in a policy given as text, errors first (it may include built-ins only).

    This is the check a policy editor runs before saving: the same rules as
    :func:`lint_policy`, plus the size limit a file has.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_POLICY_BYTES:
        return [LintIssue("error", None, f"the policy is {size} bytes; policies are limited to "
                          f"{MAX_POLICY_BYTES} bytes; move examples to a test set")]
    return _lint(text, Path(source), allow_files=False)


def _lint(text: str, path: Path, *, allow_files: bool) -> list[LintIssue]:
    issues, front, _ = _check(text)
    if front is not None:
        for name in front.include:
            try:
                _load_path(_include_target(path, name, allow_files=allow_files), (front.id,), [])
            except PolicyError as exc:
                issues.append(LintIssue("error", None, f"include {name!r}: {exc}"))
    return sorted(issues, key=lambda i: (i.severity != "error", i.line or 0))


def _check(text: str) -> tuple[list[LintIssue], FrontMatter | None, Document]:
    issues: list[LintIssue] = []
    doc = split_document(text, issues)
    front = _validate_front(doc, issues)
    issues.extend(
        LintIssue("error", doc.body_line, f"missing section '## {title}'; add it: policies "
                  f"need {', '.join(REQUIRED_SECTIONS)}")
        for title in REQUIRED_SECTIONS if title not in doc.sections
    )
    rules = read_rules(doc, issues)
    examples = read_examples(doc, issues)
    if front is not None:
        _cross_check(front, doc, rules, examples, issues)
    return issues, front, doc


def _validate_front(doc: Document, issues: list[LintIssue]) -> FrontMatter | None:
    if doc.front is None:
        return None
    try:
        front = FrontMatter.model_validate(doc.front)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            name = ".".join(str(p) for p in loc)
            hint = hint_for(loc)
            if err["type"] == "extra_forbidden":
                allowed = _allowed_keys(loc)
                message = f"unknown key {name!r}; allowed keys here are {allowed}"
            elif err["type"] == "missing":
                message = f"missing required key {name!r}" + (f"; {hint}" if hint else "")
            elif err["type"] in ("value_error", "literal_error"):  # these say how to fix it
                message = f"{name}: {err['msg'].removeprefix('Value error, ')}"
            else:
                message = f"{name}: {err['msg']}" + (f"; {hint}" if hint else "")
            issues.append(LintIssue("error", line_of(doc.front_node, loc), message))
        return None
    seen: dict[str, int] = {}
    for index, category in enumerate(front.categories):
        line = line_of(doc.front_node, ("categories", index, "code"))
        if category.code in seen:
            issues.append(LintIssue("error", line, f"duplicate category code {category.code!r} "
                                    f"(first at categories[{seen[category.code]}]); codes must "
                                    "be unique"))
        seen.setdefault(category.code, index)
    if not front.categories and not front.include:
        issues.append(LintIssue("error", line_of(doc.front_node, ("id",)),
                                "policy has no categories; add 'categories:' or 'include:'"))
    return front


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: type[FrontMatter] | type[Category] = FrontMatter
    if loc and loc[0] == "categories":
        model = Category
    return sorted(model.model_fields)


def _cross_check(
    front: FrontMatter, doc: Document, rules: Iterable[Rule], examples: Iterable[Example],
    issues: list[LintIssue],
) -> None:
    codes = {c.code for c in front.categories}
    rule_ids = {r.id for r in rules}
    if front.include:
        return  # rules of included policies are checked when those files load
    issues.extend(
        LintIssue("error", rule.line, f"rule {rule.id!r} names category {rule.category!r}, "
                  f"which is not in the front matter; known codes: {sorted(codes)}; add a category "
                  f"with 'code: {rule.category}' or change the rule id")
        for rule in rules if rule.category not in codes
    )
    issues.extend(
        LintIssue("error", example.line, f"example cites rule {example.rule_id!r}, which is "
                  "not defined under '## Criteria'; define it there or cite a rule that is")
        for example in examples if example.rule_id not in rule_ids
    )
    for index, category in enumerate(front.categories):
        _check_category(doc, index, category, rule_ids, examples, issues)


def _check_category(
    doc: Document, index: int, category: Category, rule_ids: set[str],
    examples: Iterable[Example], issues: list[LintIssue],
) -> None:
    for field_name in ("keywords", "patterns", "values"):
        mapping: dict[str, list[str]] = getattr(category, field_name)
        for rule_id, entries in mapping.items():
            line = line_of(doc.front_node, ("categories", index, field_name, rule_id))
            if rule_id not in rule_ids:
                issues.append(LintIssue("error", line, f"{field_name} of {category.code!r} "
                                        f"cite rule {rule_id!r}, which is not under "
                                        "'## Criteria'; define the rule there or use an id "
                                        "that is"))
            if field_name == "patterns":
                _check_patterns(entries, line, issues)
            if field_name == "values" and not (category.keywords.get(rule_id)
                                               or category.patterns.get(rule_id)):
                issues.append(LintIssue("error", line, f"values of {category.code!r} name "
                                        f"rule {rule_id!r}, which has no keywords or patterns "
                                        "to find the values with; add patterns for it or "
                                        "remove it from 'values'"))
    _check_patterns(category.unless, line_of(doc.front_node, ("categories", index, "unless")),
                    issues)
    _check_examples(doc, index, category, examples, issues)


def _check_patterns(patterns: Iterable[str], line: int | None, issues: list[LintIssue]) -> None:
    for pattern in patterns:
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            issues.append(LintIssue("error", line, f"pattern {pattern!r} is not a valid RE2 "
                                    f"regular expression: {exc}; fix it (RE2 has no "
                                    "look-arounds or back-references)"))


def _check_examples(
    doc: Document, index: int, category: Category, examples: Iterable[Example],
    issues: list[LintIssue],
) -> None:
    mine = [e for e in examples if e.category == category.code]
    if category.head is None and (
        not any(e.violates for e in mine) or not any(not e.violates for e in mine)
    ):
        issues.append(LintIssue(
            "error" if not mine else "warning",
            line_of(doc.front_node, ("categories", index, "code")),
            f"category {category.code!r} has no shipped head and needs both 'violates' and "
            "'safe' examples for the few-shot classifier; add some under '## Examples'",
        ))
