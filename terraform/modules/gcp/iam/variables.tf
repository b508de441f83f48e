variable "project_id" {
  description = "Project of the deployment."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of service account ids and custom role ids."
  type        = string
}

variable "landing_bucket" {
  description = "Landing bucket name."
  type        = string
}

variable "artifacts_bucket" {
  description = "Bucket holding the function source bundles (read by the build service account)."
  type        = string
}

variable "database_name" {
  description = "Firestore database id the functions may use (IAM condition)."
  type        = string
}

variable "bucket_per_catalog" {
  description = "Catalogs get dedicated buckets created at run time."
  type        = bool
}

variable "catalog_bucket_prefix" {
  description = "Name prefix of the per-catalog buckets the service creates (IAM conditions are scoped to it)."
  type        = string
}

variable "gcs_service_agent" {
  description = "Email of the project's Cloud Storage service agent."
  type        = string
}
