variable "project_id" {
  description = "Google Cloud project ID to deploy into (must have billing enabled)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of every regional resource."
  type        = string
  default     = "europe-west1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like europe-west1."
  }
}

variable "name_prefix" {
  description = "Prefix of resource names; change it to deploy twice into one project."
  type        = string
  default     = "dynastore"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-16 lowercase letters, digits or hyphens."
  }
}

variable "function_source_archive" {
  description = "Bundle built by `python scripts/package_functions.py`; null: dist/functions/dynastore-gcp.zip of this repository."
  type        = string
  default     = null
}

variable "api_keys_secret_id" {
  description = "Existing Secret Manager secret with `key:role,...`; null: a secret with one generated admin key is created."
  type        = string
  default     = null
}

variable "api_public" {
  description = "The API is reachable from the internet (it still requires API keys for anything but public reads)."
  type        = bool
  default     = true
}

variable "public_read" {
  description = "Serve GET requests without an API key."
  type        = bool
  default     = false
}

variable "bucket_per_catalog" {
  description = "Give every catalog its own bucket."
  type        = bool
  default     = false
}

variable "firestore_database" {
  description = "Firestore database id (`(default)` has a free tier; use another id if the project already has one)."
  type        = string
  default     = "(default)"
}

variable "create_firestore_database" {
  description = "Create the Firestore database (false if it already exists)."
  type        = bool
  default     = true
}

variable "teardown" {
  description = "Set true and apply before `terraform destroy`: lifts the database's delete protection and lets the landing bucket be destroyed with its objects."
  type        = bool
  default     = false
}
