# Gate at plan: `terraform plan` stops when the topology manifest has findings.
#
# A step before `terraform plan` writes the report (exit 1 means findings, which the
# precondition below reports; 2 and 3 mean the manifest could not be checked, so the step fails):
#
#   pchat-guard check --output json:pchat-guard-report.json topology.yaml; test $? -le 1
#
# The report carries each file's sha256: a report older than the manifest is refused, never
# trusted.

variable "manifest" {
  description = "The topology manifest, as named when the report was written."
  type        = string
  default     = "topology.yaml"
}

variable "report" {
  description = "The JSON report of `pchat-guard check` (written before plan)."
  type        = string
  default     = "pchat-guard-report.json"
}

variable "fail_on" {
  description = "Lowest severity that stops the plan: error, warning or info."
  type        = string
  default     = "error"
}

locals {
  levels = { info = 0, warning = 1, error = 2 }
  report = jsondecode(file(var.report))
  file   = try(one([for f in local.report.files : f if f.path == var.manifest]), null)
  findings = local.file == null ? [] : [
    for f in local.file.findings :
    "${var.manifest}:${f.location.start.line}:${f.location.start.column}: ${f.code}: ${f.message}${try("\n  help: ${f.help}", "")}"
    if local.levels[f.severity] >= local.levels[var.fail_on] && try(f.waived, null) == null
  ]
}

resource "terraform_data" "topology" {
  input = filesha256(var.manifest)

  lifecycle {
    precondition {
      condition     = local.file != null
      error_message = "${var.report} does not cover ${var.manifest}: run pchat-guard on it before terraform plan."
    }
    precondition {
      condition     = try(local.file.sha256, "") == filesha256(var.manifest)
      error_message = "${var.report} was written for another version of ${var.manifest} (or the file could not be read): run pchat-guard again before terraform plan."
    }
    precondition {
      condition     = try(local.file.checked, false)
      error_message = "pchat-guard could not check ${var.manifest}:\n${join("\n", local.findings)}"
    }
    precondition {
      condition     = length(local.findings) == 0
      error_message = "pchat-guard found problems in the topology:\n${join("\n", local.findings)}"
    }
  }
}
