# -*- coding: utf-8 -*-
"""pchat.guard.check: checks a topology manifest on the controller with pchat-guard.

The checker is the pchat_guard Python package (the same WebAssembly module as the CLI), so
managed hosts need nothing and the task runs under --check as well.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

LEVELS = {"info": 0, "warning": 1, "error": 2}


def located(report, fail_on="error"):
    """The findings of a report at or above `fail_on` that are not waived, as lines."""
    if fail_on == "never":
        return []
    floor = LEVELS.get(fail_on, 2)
    lines = []
    for finding in report.get("findings", []):
        if finding.get("waived") is not None:
            continue
        if LEVELS.get(finding.get("severity"), 2) < floor:
            continue
        start = finding["location"]["start"]
        line = "%s:%s:%s %s %s" % (
            report.get("path"),
            start["line"],
            start["column"],
            finding["code"],
            finding["message"],
        )
        if finding.get("help"):
            line += " (help: %s)" % finding["help"]
        lines.append(line)
    return lines


class ActionModule(ActionBase):
    """Runs on the controller only; changes nothing."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(
        ("content", "path", "filename", "fail_on", "today", "waivers", "ignore_manifest_waivers")
    )
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec=dict(
                content=dict(type="str"),
                path=dict(type="path"),
                filename=dict(type="str", default="topology.yaml"),
                fail_on=dict(type="str", default="error", choices=["error", "warning", "info", "never"]),
                today=dict(type="str"),
                waivers=dict(type="list", elements="dict", default=[]),
                ignore_manifest_waivers=dict(type="bool", default=False),
            ),
            required_one_of=[["content", "path"]],
            mutually_exclusive=[["content", "path"]],
        )
        try:
            import pchat_guard
        except ImportError as e:
            raise AnsibleActionFail(
                "pchat.guard.check needs the pchat_guard Python package on the controller "
                "(pip install pchat_guard-*.whl beside ansible-core): %s" % e
            )
        if args["path"] is not None:
            filename = args["path"]
            try:
                with open(filename, "rb") as handle:
                    text = handle.read()
            except OSError as e:
                raise AnsibleActionFail("cannot read %s: %s" % (filename, e))
        else:
            filename = args["filename"]
            text = args["content"]
        try:
            report = pchat_guard.check(
                text,
                filename,
                today=args["today"],
                waivers=args["waivers"] or None,
                ignore_manifest_waivers=args["ignore_manifest_waivers"],
            )
        except pchat_guard.ModuleError as e:
            raise AnsibleActionFail("pchat-guard could not run: %s" % e)
        except (TypeError, ValueError) as e:
            raise AnsibleActionFail("pchat-guard: %s" % e)
        result["changed"] = False
        result["report"] = report
        if not report.get("checked"):
            # A manifest that could not be checked never passes, whatever fail_on says.
            result["findings"] = located(report, "info")
            result["failed"] = True
            result["msg"] = "pchat-guard could not check %s:\n%s" % (
                filename,
                "\n".join(result["findings"]),
            )
            return result
        result["findings"] = located(report, args["fail_on"])
        if result["findings"]:
            result["failed"] = True
            result["msg"] = "pchat-guard found %d problem(s) in %s:\n%s" % (
                len(result["findings"]),
                filename,
                "\n".join(result["findings"]),
            )
        else:
            result["msg"] = "%s: no findings" % filename
        return result
