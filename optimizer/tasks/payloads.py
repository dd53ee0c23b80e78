"""The flagship task: classifying web attack payloads."""

from __future__ import annotations

from optimizer.tasks.base import Task

LABEL_DESCRIPTIONS: dict[str, str] = {
    "benign": "ordinary input with no attack: search queries, names, JSON, prose, URLs, code",
    "sqli": "SQL injection: input that changes the structure of a SQL query",
    "xss": "cross-site scripting: input that injects script or markup into a page",
    "cmdi": "OS command injection: input that runs shell commands",
    "path_traversal": "path traversal / local file inclusion: input that escapes a directory",
    "ssrf": "server-side request forgery: input that makes the server fetch an internal URL",
    "ssti": "server-side template injection: input evaluated by a template engine",
    "xxe": "XML external entity injection: XML that declares external entities",
    "nosqli": "NoSQL injection: operator objects or JavaScript that alter a NoSQL query",
    "ldapi": "LDAP injection: input that changes an LDAP filter",
    "crlf": "CRLF / header injection: input that injects new HTTP header lines",
}

LABELS: tuple[str, ...] = tuple(LABEL_DESCRIPTIONS)

PAYLOAD_TASK = Task(
    name="payload-classification",
    description=(
        "Classify an HTTP request payload as benign or as the web attack family it belongs to: "
        + ", ".join(LABELS)
        + "."
    ),
    labels=LABELS,
    negative_label="benign",
    input_field="payload",
    output_field="label",
    label_descriptions=LABEL_DESCRIPTIONS,
)
