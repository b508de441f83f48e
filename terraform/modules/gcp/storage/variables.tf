variable "project_id" {
  description = "Project that owns the buckets."
  type        = string
}

variable "location" {
  description = "Bucket location (a region such as europe-west1; Eventarc storage triggers must live in the same region)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "landing_bucket_name" {
  description = "Name of the landing bucket that holds `{catalog}/{collection}/{item}/...` objects."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Name of the private bucket that holds the function source bundles."
  type        = string
}

variable "access_log_bucket" {
  description = "Existing bucket that receives the usage logs of the landing bucket; null disables usage logs."
  type        = string
  default     = null
}

variable "versioning" {
  description = "Keep noncurrent object versions in the landing bucket (see noncurrent_version_retention_days)."
  type        = bool
}

variable "soft_delete_retention_days" {
  description = "Cloud Storage soft-delete window of the landing bucket (0 disables; 7 to 90 otherwise)."
  type        = number
}

variable "noncurrent_version_retention_days" {
  description = "Days a noncurrent object version is kept before lifecycle deletes it (versioning only)."
  type        = number
}

variable "noncurrent_versions_kept" {
  description = "Noncurrent versions of one object kept at most (versioning only)."
  type        = number
}

variable "nearline_after_days" {
  description = "Move objects to NEARLINE after this many days; null keeps them STANDARD."
  type        = number
  default     = null
}

variable "abort_incomplete_uploads_after_days" {
  description = "Abort incomplete multipart uploads after this many days."
  type        = number
  default     = 7
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects."
  type        = bool
  default     = false
}

variable "bucket_per_catalog" {
  description = "Catalogs get dedicated buckets at run time; create the Pub/Sub topic their notifications publish to."
  type        = bool
}

variable "labels" {
  description = "Labels applied to every resource."
  type        = map(string)
  default     = {}
}
