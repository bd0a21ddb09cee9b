"""Bastion's local Semgrep rules, one case per rule branch: the vulnerable snippet is flagged by
that rule and its fixed form by no rule at all. Semgrep runs once over every snippet."""

from __future__ import annotations

import os
import shutil

import pytest

from bastion.copilot import RawFinding, Semgrep

SEMGREP = os.environ.get("BASTION_SEMGREP") or shutil.which("semgrep")
pytestmark = pytest.mark.skipif(
    SEMGREP is None, reason="semgrep is not installed (it needs its own environment: set "
    "BASTION_SEMGREP to its executable); the Bandit tests still run")

# (case, rule, vulnerable, fixed)
CASES: list[tuple[str, str, str, str]] = [
    ("getoutput", "shell-injection",
     "import subprocess\ndef f(h):\n    return subprocess.getoutput('host ' + h)\n",
     "import subprocess\ndef f(h):\n    return subprocess.run(['host', h], check=False)\n"),
    ("asyncio-shell", "shell-injection",
     "import asyncio\nasync def f(p):\n    await asyncio.create_subprocess_shell(f'gzip {p}')\n",
     "import asyncio\nasync def f(p):\n    await asyncio.create_subprocess_exec('gzip', p)\n"),
    ("sh-c", "shell-injection",
     "import subprocess as sp\ndef f(n):\n    sp.run(['bash', '-c', f'make {n}'], check=True)\n",
     "import subprocess as sp\ndef f(n):\n    sp.run(['make', '--', n], check=True)\n"),
    ("sql-concat-both-sides", "sql-injection",
     "def f(c, t):\n    c.execute(\"SELECT 1 FROM p WHERE t LIKE '%\" + t + \"%'\")\n",
     "def f(c, t):\n    c.execute('SELECT 1 FROM p WHERE t LIKE ?', (f'%{t}%',))\n"),
    ("sqlalchemy-text", "sql-injection",
     "from sqlalchemy import text\ndef f(s, c):\n    return s.execute(text(f\"SELECT 1 WHERE c = '{c}'\"))\n",
     "from sqlalchemy import text\ndef f(s, c):\n    return s.execute(text('SELECT 1 WHERE c = :c'), {'c': c})\n"),
    ("django-raw", "sql-injection",
     "def f(User, e):\n    return User.objects.raw(\"SELECT * FROM u WHERE e = '%s'\" % e)\n",
     "def f(User, e):\n    return User.objects.raw('SELECT * FROM u WHERE e = %s', [e])\n"),
    ("sql-constant-pieces", "sql-injection",
     "def f(c, n):\n    q = 'SELECT * FROM t WHERE id = ' + n\n    c.execute(q)\n",
     "def f(c, n):\n    q = 'SELECT * FROM t ' + 'WHERE id = ?'\n    c.execute(q, (n,))\n"),
    ("yaml-no-loader", "unsafe-deserialization",
     "import yaml\ndef f(d):\n    return yaml.load(d)\n",
     "import yaml\ndef f(d):\n    return yaml.load(d, Loader=yaml.SafeLoader)\n"),
    ("shelve", "unsafe-deserialization",
     "import shelve\ndef f(p):\n    with shelve.open(p) as db:\n        return dict(db)\n",
     "import json\ndef f(p):\n    with open(p) as fh:\n        return json.load(fh)\n"),
    ("torch-load", "unsafe-deserialization",
     "import torch\ndef f(p):\n    return torch.load(p)\n",
     "import torch\ndef f(p):\n    return torch.load(p, weights_only=True)\n"),
    ("hmac-md5", "weak-hash",
     "import hashlib, hmac\ndef f(k, m):\n    return hmac.new(k, m, hashlib.md5).digest()\n",
     "import hashlib, hmac\ndef f(k, m):\n    return hmac.new(k, m, hashlib.sha256).digest()\n"),
    ("hashlib-new-upper", "weak-hash",
     "import hashlib\ndef f(b):\n    return hashlib.new('SHA1', b).hexdigest()\n",
     "import hashlib\ndef f(b):\n    return hashlib.new('sha256', b).hexdigest()\n"),
    ("cryptography-ecb", "weak-cipher",
     "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
     "def f(k):\n    return Cipher(algorithms.AES(k), modes.ECB()).encryptor()\n",
     "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
     "def f(k, iv):\n    return Cipher(algorithms.AES(k), modes.CTR(iv)).encryptor()\n"),
    ("session-verify", "tls-verification-off",
     "import requests\ndef f():\n    s = requests.Session()\n    s.verify = False\n    return s\n",
     "import requests\ndef f():\n    return requests.Session()\n"),
    ("cert-none", "tls-verification-off",
     "import urllib3\ndef f():\n    return urllib3.PoolManager(cert_reqs='CERT_NONE')\n",
     "import urllib3\ndef f():\n    return urllib3.PoolManager(cert_reqs='CERT_REQUIRED')\n"),
    ("aiohttp-ssl", "tls-verification-off",
     "import aiohttp\ndef f():\n    return aiohttp.TCPConnector(ssl=False)\n",
     "import aiohttp\ndef f():\n    return aiohttp.TCPConnector()\n"),
    ("secret-key-name", "hardcoded-secret",
     "SECRET_KEY = 'x9!f3k@2m#p0q7r8s1t'\n",
     "import os\nSECRET_KEY = os.environ['SECRET_KEY']\n"),
    ("token-shape", "hardcoded-secret",
     "HEADERS = {'Authorization': 'Bearer sk_live_51HfQ2eLkdIwHu7'}\n",
     "import os\nHEADERS = {'Authorization': f\"Bearer {os.environ['PAY_KEY']}\"}\n"),
    ("dict-password", "hardcoded-secret",
     "DB = {'user': 'app', 'password': 'hunter2hunter2'}\n",
     "import os\nDB = {'user': 'app', 'password': os.environ['DB_PASSWORD']}\n"),
    ("copy-param", "path-traversal",
     "import os, shutil\ndef f(name, dest):\n    shutil.copy(os.path.join('/srv/u', name), dest)\n",
     "import os, shutil\ndef f(name, dest):\n    name = os.path.basename(name)\n"
     "    shutil.copy(os.path.join('/srv/u', name), dest)\n"),
    ("random-sample", "insecure-random",
     "import random, string\ndef new_password():\n"
     "    return ''.join(random.sample(string.ascii_letters, 12))\n",
     "import secrets, string\ndef new_password():\n"
     "    return ''.join(secrets.choice(string.ascii_letters) for _ in range(12))\n"),
    ("tmp-fstring", "insecure-temp-file",
     "def f(u):\n    return open(f'/tmp/{u}.lock', 'w')\n",
     "import tempfile\ndef f(u):\n    return tempfile.NamedTemporaryFile('w', suffix='.lock', delete=False)\n"),
    ("render-template-string", "xss",
     "from flask import render_template_string, request\ndef v():\n"
     "    return render_template_string('<p>' + request.args['t'] + '</p>')\n",
     "from flask import render_template_string, request\ndef v():\n"
     "    return render_template_string('<p>{{ t }}</p>', t=request.args['t'])\n"),
    ("mark-safe", "xss",
     "from django.utils.safestring import mark_safe\ndef f(c):\n"
     "    return mark_safe('<b>%s</b>' % c)\n",
     "from django.utils.html import format_html\ndef f(c):\n    return format_html('<b>{}</b>', c)\n"),
    ("flask-reflected", "xss-reflected",
     "from flask import request\ndef v():\n    n = request.args.get('n', '')\n"
     "    return f'<h1>Hi {n}</h1>'\n",
     "from flask import request\nfrom markupsafe import escape\ndef v():\n"
     "    n = request.args.get('n', '')\n    return f'<h1>Hi {escape(n)}</h1>'\n"),
    ("minidom", "xml-untrusted",
     "from xml.dom import minidom\ndef f(b):\n    return minidom.parseString(b)\n",
     "from defusedxml import minidom\ndef f(b):\n    return minidom.parseString(b)\n"),
    ("lxml-network", "xxe",
     "from lxml import etree\ndef f(b):\n    return etree.fromstring(b, etree.XMLParser(no_network=False))\n",
     "from lxml import etree\ndef f(b):\n"
     "    return etree.fromstring(b, etree.XMLParser(resolve_entities=False))\n"),
    ("ssrf-flask", "ssrf",
     "import requests\nfrom flask import request\ndef v():\n"
     "    return requests.get(request.args['url'], timeout=5).text\n",
     "import requests\nfrom flask import abort, request\nALLOWED = {'https://a.example/x'}\n"
     "def v():\n    url = request.args['url']\n    if url not in ALLOWED:\n        abort(400)\n"
     "    return requests.get(url, timeout=5).text\n"),
    ("ssrf-django", "ssrf",
     "import urllib.request\ndef v(request):\n"
     "    return urllib.request.urlopen(request.GET['feed'], timeout=5).read()\n",
     "import urllib.request\nFEEDS = {'news': 'https://news.example/rss'}\ndef v(request):\n"
     "    return urllib.request.urlopen(FEEDS[request.GET['feed']], timeout=5).read()\n"),
    ("session-no-timeout", "request-without-timeout",
     "import requests\ns = requests.Session()\ndef f(u):\n    return s.get(u)\n",
     "import requests\ns = requests.Session()\ndef f(u):\n    return s.get(u, timeout=10)\n"),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[RawFinding]:
    root = tmp_path_factory.mktemp("rules")
    for case, _, vulnerable, fixed in CASES:
        (root / f"{case}_vulnerable.py").write_text(vulnerable)
        (root / f"{case}_fixed.py").write_text(fixed)
    assert SEMGREP is not None
    return Semgrep(SEMGREP).scan(root, sorted(root.glob("*.py")))


@pytest.mark.parametrize(("case", "rule", "vulnerable", "fixed"), CASES, ids=[c[0] for c in CASES])
def test_rule_flags_vulnerable_and_not_fixed(findings: list[RawFinding], case: str, rule: str,
                                             vulnerable: str, fixed: str) -> None:
    on_vulnerable = {f.rule for f in findings if f.path == f"{case}_vulnerable.py"}
    on_fixed = [(f.rule, f.line) for f in findings if f.path == f"{case}_fixed.py"]
    assert rule in on_vulnerable, f"{rule!r} missed {vulnerable!r}"
    assert not on_fixed, f"the fixed form of {case!r} is flagged: {on_fixed}"
