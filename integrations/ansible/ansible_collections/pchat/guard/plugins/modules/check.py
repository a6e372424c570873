# -*- coding: utf-8 -*-
# The documentation of the pchat.guard.check action; the work is done on the controller by
# plugins/action/check.py, so there is no module code to run on managed hosts.

DOCUMENTATION = r"""
module: check
short_description: Check a Persistent Chat topology manifest with pchat-guard
description:
  - Checks a topology manifest (JSON or YAML) against the high-availability and
    disaster-recovery rules of pchat-guard, on the controller.
  - Fails the task when a finding is at or above O(fail_on), listing each as
    C(file:line:col CODE message); a manifest that cannot be checked always fails.
  - Runs under C(--check) too, and changes nothing.
options:
  content:
    description: The manifest text (for example from C(lookup('template', ...))).
    type: str
  path:
    description: A manifest file on the controller. One of O(content) and O(path) is required.
    type: path
  filename:
    description: The name reported for O(content); its extension picks JSON or YAML.
    type: str
    default: topology.yaml
  fail_on:
    description: Lowest severity that fails the task.
    type: str
    choices: [error, warning, info, never]
    default: error
  today:
    description: The date waivers' C(expires) is compared with (YYYY-MM-DD); default today (UTC).
    type: str
  waivers:
    description: Waivers from outside the manifest, each with C(rule), C(target), C(reason) and optionally C(expires).
    type: list
    elements: dict
    default: []
  ignore_manifest_waivers:
    description: Ignore the manifest's own C(waivers); only O(waivers) apply.
    type: bool
    default: false
author:
  - pchat-guard
"""

EXAMPLES = r"""
- name: Gate the rendered topology before copying it
  pchat.guard.check:
    content: "{{ lookup('ansible.builtin.template', 'topology.yaml.j2') }}"
    filename: topology.yaml
"""

RETURN = r"""
report:
  description: The pchat-guard report of the manifest (as in C(pchat-guard check --format json)).
  returned: always
  type: dict
findings:
  description: The findings at or above O(fail_on) that are not waived, as C(file:line:col CODE message).
  returned: always
  type: list
  elements: str
"""
