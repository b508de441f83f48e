variable "project_id" {
  description = "Project that owns the database."
  type        = string
}

variable "database_name" {
  description = "Firestore database id (`(default)` gets the free tier)."
  type        = string
}

variable "location_id" {
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3)."
  type        = string
}

variable "create_database" {
  description = "Create the database; false when it already exists (only its indexes are managed then)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the database (set false, apply, then destroy to tear everything down)."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Keep 7 days of versions for point-in-time recovery (billed as storage)."
  type        = bool
  default     = false
}

variable "indexes_file" {
  description = "The gcp backend's index file (Firestore admin API / firebase.json `indexes` format)."
  type        = string
}

variable "collection_prefix" {
  description = "Prefix of every collection the backend uses (DYNASTORE_GCP_COLLECTION_PREFIX)."
  type        = string
  default     = ""
}
