# Gate at apply: `terraform apply` runs pchat-guard on the manifest whenever it changes, and
# stops with its findings (the CLI's own output, file:line:col) when there are any. Nothing is
# needed before plan, but the gate only closes at apply.

variable "manifest" {
  description = "The topology manifest."
  type        = string
  default     = "topology.yaml"
}

variable "pchat_guard" {
  description = "The pchat-guard executable."
  type        = string
  default     = "pchat-guard"
}

resource "terraform_data" "topology_check" {
  # A new manifest version replaces the resource, which runs the check again.
  triggers_replace = filesha256(var.manifest)

  provisioner "local-exec" {
    interpreter = [var.pchat_guard, "check", "--color", "never"]
    command     = var.manifest
  }
}
