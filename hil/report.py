"""Conformance results as a human summary and as JUnit XML (one testcase per scenario)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def passed(item: dict) -> bool:
    return not item["error"] and all(ok for ok, _ in item["results"])


def summary(suite_name: str, port: str, items: list[dict]) -> str:
    lines = ["conformance suite %s on %s" % (suite_name, port)]
    for it in items:
        lines.append("%s  %s (%.1f s)" % ("PASS" if passed(it) else "FAIL", it["name"], it["seconds"]))
        if it["error"]:
            lines.append("      error: " + it["error"])
        for ok, msg in it["results"]:
            lines.append("      %s %s" % ("ok  " if ok else "FAIL", msg))
    n_ok = sum(1 for it in items if passed(it))
    lines.append("%d of %d scenarios passed" % (n_ok, len(items)))
    return "\n".join(lines) + "\n"


def junit_xml(suite_name: str, items: list[dict]) -> str:
    failures = sum(1 for it in items if it["results"] and not passed(it))
    errors = sum(1 for it in items if it["error"])
    root = ET.Element("testsuite", name=suite_name, tests=str(len(items)), failures=str(failures),
                      errors=str(errors), time="%.3f" % sum(it["seconds"] for it in items))
    for it in items:
        case = ET.SubElement(root, "testcase", classname="hil." + suite_name, name=it["name"], time="%.3f" % it["seconds"])
        if it["error"]:
            ET.SubElement(case, "error", message=it["error"]).text = it["error"]
        elif not passed(it):
            bad = [msg for ok, msg in it["results"] if not ok]
            ET.SubElement(case, "failure", message=bad[0]).text = "\n".join(bad)
        ET.SubElement(case, "system-out").text = "\n".join(("ok   " if ok else "FAIL ") + m for ok, m in it["results"])
    return ET.tostring(root, encoding="unicode") + "\n"
