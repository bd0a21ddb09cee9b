"""What each CWE is, why it matters, how to fix it, and safe one-line rewrites (templates)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    """The template for one CWE: a title, why it matters, the fix, and line rewrites."""

    title: str
    why: str
    fix: str
    rewrites: tuple[tuple[str, str], ...] = ()


ADVICE: dict[int, Advice] = {
    22: Advice("Path traversal", "a name like '../../etc/passwd' reads or overwrites files "
               "outside the intended folder",
               "resolve the path and refuse it unless it stays inside the base folder "
               "(Path.is_relative_to); extract archives with filter='data'",
               ((r"\.extractall\(([^()]*)\)", r'.extractall(\1, filter="data")'),)),
    78: Advice("OS command injection", "shell metacharacters in the data run arbitrary "
               "commands with the service's rights",
               "pass the command as an argument list without shell=True (shlex.split a fixed "
               "template), or use a library call instead of a shell"),
    79: Advice("Cross-site scripting", "script in the data runs in other users' browsers",
               "turn on autoescaping and escape data before it joins HTML (markupsafe.escape)",
               ((r"Environment\(", "Environment(autoescape=True, "),)),
    89: Advice("SQL injection", "quotes in the data rewrite the query: read, change or drop "
               "any table", "keep the SQL text constant and pass values as bound parameters: "
               "execute('... WHERE name = ?', (name,))"),
    95: Advice("Code injection", "eval and exec run whatever Python the data holds",
               "parse literals with ast.literal_eval, or map names to allowed functions",
               ((r"(?<![\w.])eval\(", "ast.literal_eval("),)),
    295: Advice("Certificate validation disabled", "anyone on the network path can read and "
                "alter the traffic", "keep certificate verification on (the default); trust "
                "a private CA with verify='/path/ca.pem'",
                ((r"verify\s*=\s*False", "verify=True"),
                 (r"ssl\._create_unverified_context\(\)", "ssl.create_default_context()"),
                 (r"ssl\.CERT_NONE", "ssl.CERT_REQUIRED"))),
    327: Advice("Broken cipher", "DES, RC4 and ECB mode leak or allow forging the data",
                "use an authenticated cipher: AES-GCM or ChaCha20-Poly1305"),
    328: Advice("Weak hash", "MD5 and SHA-1 collide and brute-force fast; hashed passwords "
                "and tokens are recovered", "use hashlib.sha256 for integrity, and a slow "
                "password hash (hashlib.scrypt, PBKDF2 or argon2) for passwords",
                ((r"hashlib\.(md5|sha1)\(", "hashlib.sha256("),)),
    338: Advice("Predictable randomness", "the random module's output can be predicted, so "
                "tokens and codes can be guessed", "use the secrets module",
                ((r"random\.choice\(", "secrets.choice("),
                 (r"random\.getrandbits\(", "secrets.randbits("))),
    377: Advice("Insecure temporary file", "another local user can pre-create or race the "
                "file", "use tempfile.mkstemp or NamedTemporaryFile"),
    400: Advice("Request without timeout", "a slow or malicious server hangs the worker "
                "forever", "pass timeout= to every request",
                ((r"(requests\.\w+\((?:[^()]|\([^()]*\))*)\)", r"\1, timeout=10)"),)),
    502: Advice("Unsafe deserialisation", "pickle, marshal and full YAML loaders run code "
                "embedded in the data", "use json or yaml.safe_load for data that crosses a "
                "trust boundary",
                ((r"yaml\.load\(([^,()]+),\s*Loader\s*=\s*yaml\.\w+\)", r"yaml.safe_load(\1)"),
                 (r"yaml\.unsafe_load\(", "yaml.safe_load("))),
    611: Advice("XML external entities", "a document can make the parser read local files "
                "or call internal URLs", "disable entity resolution or use defusedxml",
                ((r"resolve_entities\s*=\s*True", "resolve_entities=False"),
                 (r"(feature_external_ges,\s*)True", r"\1False"))),
    798: Advice("Hard-coded credential", "anyone who reads the code or its history holds the "
                "secret", "read it from the environment or a secret store and rotate the "
                "exposed one"),
}
GENERIC = Advice("Security weakness", "it may let an attacker change what the code does",
                 "see the scanner's message and fix the flagged line")


def advice(cwe: int | None) -> Advice:
    """The template for a CWE (a generic one when Bastion has none)."""
    return ADVICE.get(cwe or 0, GENERIC)


def patch(source: str, path: str, line: int, end_line: int, cwe: int | None) -> str | None:
    """A unified diff that applies the CWE's rewrites to the flagged lines, or None."""
    rules = advice(cwe).rewrites
    if not rules:
        return None
    lines = source.splitlines(keepends=True)
    changed = list(lines)
    for n in range(max(line, 1) - 1, min(max(end_line, line), len(lines))):
        for pattern, repl in rules:
            changed[n] = re.sub(pattern, repl, changed[n], count=1)
    if changed == lines:
        return None
    return "".join(difflib.unified_diff(lines, changed, f"a/{path}", f"b/{path}", n=2))
