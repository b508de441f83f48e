variable "region" {
  description = "AWS region to deploy to."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region: an AWS region such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "dyn"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "function_bundle" {
  description = "Code bundle; default: dist/functions/dynastore-aws.zip of this checkout."
  type        = string
  default     = null
}

variable "dependencies_layer" {
  description = "Dependencies layer; default: dist/functions/dynastore-aws-deps.zip of this checkout."
  type        = string
  default     = null
}

variable "public_read" {
  description = "Serve GET requests without an API key."
  type        = bool
  default     = false
}

variable "teardown" {
  description = "Let terraform destroy remove the bucket with its objects and the table (demos, tests)."
  type        = bool
  default     = false
}
