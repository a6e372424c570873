# -*- coding: utf-8 -*-
"""pchat.guard.findings: the findings of a pchat-guard report as `file:line:col CODE message`
lines, for `assert` (an empty list means the manifest passes)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

LEVELS = {"info": 0, "warning": 1, "error": 2}


def findings(report, fail_on="error"):
    """The findings of `report` at or above `fail_on` (error, warning, info) that are not
    waived; a report of a file that could not be checked gives all its findings."""
    if not isinstance(report, dict) or "findings" not in report:
        raise AnsibleFilterError("pchat.guard.findings expects a pchat-guard report")
    if fail_on not in LEVELS:
        raise AnsibleFilterError("fail_on is one of error, warning, info")
    floor = 0 if not report.get("checked", False) else LEVELS[fail_on]
    lines = []
    for finding in report["findings"]:
        if finding.get("waived") is not None or LEVELS.get(finding.get("severity"), 2) < floor:
            continue
        start = finding["location"]["start"]
        lines.append(
            "%s:%s:%s %s %s"
            % (report.get("path"), start["line"], start["column"], finding["code"], finding["message"])
        )
    return lines


class FilterModule(object):
    def filters(self):
        return {"findings": findings}
