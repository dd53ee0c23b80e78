"""JUnit XML and Markdown renderings of a ``breed check`` report (for any CI).

Contracts:
- ``junit_xml``: one ``<testsuite>`` per checked split (``regression``, ``test``), one
  ``<testcase>`` per example. A newly failing case (a regression: right in the baseline, wrong
  in the candidate) is a ``<failure>``; a case wrong in both is ``<skipped>`` (a known failure,
  not caused by this change); everything else passes. So the XML's failure count equals the
  number of regressions. Gate results are ``<properties>`` of the ``<testsuites>`` element.
- ``markdown``: verdict, gate table, metric deltas with intervals, newly failing cases
  (critical first) and newly fixed cases, for a CI job summary or a pull request comment.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.cicd.check import CheckResult

SPLITS = ("regression", "test")


def junit_xml(result: CheckResult) -> bytes:
    """The JUnit XML document (UTF-8 bytes) for a check result."""
    rep, examples = result.report, result.examples
    root = ET.Element("testsuites", name="breed check")
    props = ET.SubElement(root, "properties")
    for key, value in (("candidate", rep["candidate"]["source"]),
                       ("baseline", rep["baseline"]["source"]),
                       ("report_hash", result.report_hash),
                       ("gate", "passed" if result.passed else "failed")):
        ET.SubElement(props, "property", name=key, value=str(value))
    for chk in rep["gate"]["checks"]:
        ET.SubElement(props, "property", name=f"gate.{chk['name']}",
                      value=f"{chk['status']}: {chk['detail']}")
    total_fail = total_tests = total_skip = 0
    for split in SPLITS:
        info = rep["splits"][split]
        failing = {c["id"]: c for c in info["newly_failing"]}
        known = result.known.get(split, set())
        suite = ET.SubElement(root, "testsuite", name=f"breed.{split}")
        n_fail = n_skip = 0
        for ex in examples[split]:
            tc = ET.SubElement(suite, "testcase", classname=f"breed.{split}.{ex.label}",
                               name=ex.id)
            case = failing.get(ex.id)
            if case is not None:
                n_fail += 1
                tag = "CRITICAL regression" if case["critical"] else "regression"
                f = ET.SubElement(tc, "failure", type=tag, message=(
                    f"{tag}: expected {case['label']}, got {case['candidate']} "
                    f"(baseline said {case['baseline']})"))
                f.text = _safe(f"input: {case['input']}\nfirst_seen: {case.get('first_seen')}"
                               f"\nincident: {case.get('incident')}")
            elif ex.id in known:
                n_skip += 1
                ET.SubElement(tc, "skipped", message="known failure: also wrong in the baseline")
        suite.set("tests", str(len(examples[split])))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(n_skip))
        total_fail += n_fail
        total_tests += len(examples[split])
        total_skip += n_skip
    root.set("tests", str(total_tests))
    root.set("failures", str(total_fail))
    root.set("errors", "0")
    root.set("skipped", str(total_skip))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters; show them as escapes."""
    def ok(ch: str) -> bool:
        o = ord(ch)
        return ch in "\t\n\r" or (o >= 0x20 and ch not in "\ufffe\uffff"
                                   and not 0xD800 <= o <= 0xDFFF)

    return "".join(ch if ok(ch) else f"\\x{ord(ch):02x}" for ch in text)


def _pp(x: Any) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}"


def _p(x: Any) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ").replace("\r", " ")


def markdown(result: CheckResult, max_cases: int = 50) -> str:
    """A Markdown summary of a check result."""
    rep = result.report
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [
        f"## breed check: gate {verdict}", "",
        f"- candidate: {_md(rep['candidate']['source'])} (`{rep['candidate']['sha256'][:12]}`, "
        f"{rep['candidate']['chars']} chars)",
        f"- baseline: {_md(rep['baseline']['source'])} (`{rep['baseline']['sha256'][:12]}`)",
        f"- report hash: `{result.report_hash[:16]}`", "",
        "| gate check | status | value | limit | detail |", "| --- | --- | --- | --- | --- |",
    ]
    for c in rep["gate"]["checks"]:
        lines.append(f"| {c['name']} | {c['status']} | {c['value']} | {c['limit']} | "
                     f"{_md(c['detail'])} |")
    lines += ["", "| split | metric | candidate % | baseline % | delta pp | 95% CI (pp) |",
              "| --- | --- | ---: | ---: | ---: | --- |"]
    for split in SPLITS:
        for d in rep["splits"][split]["deltas"]:
            lo, hi = d["ci"]
            lines.append(f"| {split} | {d['metric']} | {_p(d['candidate'])} | "
                         f"{_p(d['baseline'])} | {_pp(d['delta'])} | [{_pp(lo)}, {_pp(hi)}] |")
    regs = result.regressions
    lines += ["", f"### Newly failing cases: {len(regs)} "
              f"({sum(1 for c in regs if c['critical'])} critical)", ""]
    if regs:
        lines += ["| | split | id | expected | got | first seen | input |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for c in regs[:max_cases]:
            mark = "**CRITICAL**" if c["critical"] else ""
            lines.append(f"| {mark} | {c['split']} | {c['id']} | {c['label']} | "
                         f"{c['candidate']} | {c.get('first_seen') or ''} | "
                         f"`{_md(c['input'][:80])}` |")
        if len(regs) > max_cases:
            lines.append(f"\n... and {len(regs) - max_cases} more")
    fixed = [c for s in SPLITS for c in rep["splits"][s]["newly_fixed"]]
    lines += ["", f"### Newly fixed cases: {len(fixed)}", ""]
    if fixed:
        lines.append(", ".join(f"{c['id']} ({c['label']})" for c in fixed[:max_cases])
                     + (" ..." if len(fixed) > max_cases else ""))
    return "\n".join(lines) + "\n"
