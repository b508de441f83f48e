# --- where ---------------------------------------------------------------------------------------

variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lowercase letters, digits and hyphens), not a name or number."
  }
}

variable "region" {
  description = "Region of the functions, landing bucket, queues, triggers and scheduler jobs."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 (Eventarc storage triggers need a regional bucket)."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (service accounts, functions, queues, jobs)."
  type        = string
  default     = "dynastore"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels applied to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the Google Cloud APIs the deployment uses (needs serviceusage.services.enable)."
  type        = bool
  default     = true
}

# --- function source -----------------------------------------------------------------------------

variable "function_source_archive" {
  description = "Path of the bundle built by `scripts/package_functions.py` (dist/functions/dynastore-gcp.zip)."
  type        = string
  validation {
    condition     = fileexists(var.function_source_archive)
    error_message = "function_source_archive does not exist: run `python scripts/package_functions.py` first."
  }
}

variable "runtime" {
  description = "Cloud Functions runtime; must match the packager's --python-version."
  type        = string
  default     = "python312"
  validation {
    condition     = contains(["python311", "python312", "python313"], var.runtime)
    error_message = "runtime must be python311, python312 or python313."
  }
}

# --- storage -------------------------------------------------------------------------------------

variable "landing_bucket_name" {
  description = "Name of the landing bucket; null: <project_id>-<name_prefix>-landing."
  type        = string
  default     = null
  validation {
    condition     = var.landing_bucket_name == null || (can(regex("^[a-z0-9][a-z0-9-]{1,50}[a-z0-9]$", var.landing_bucket_name)) && !strcontains(coalesce(var.landing_bucket_name, "-"), "goog"))
    error_message = "landing_bucket_name must be 3-52 lowercase letters, digits or hyphens, without \"goog\" (per-catalog buckets are named <landing>-<catalog>)."
  }
}

variable "bucket_versioning" {
  description = "Keep noncurrent versions of overwritten or deleted objects in the landing bucket."
  type        = bool
  default     = true
}

variable "soft_delete_retention_days" {
  description = "Cloud Storage soft-delete window of the landing bucket in days: 0 (off) or 7 to 90."
  type        = number
  default     = 7
  validation {
    condition     = var.soft_delete_retention_days == 0 || (var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90)
    error_message = "soft_delete_retention_days must be 0 or between 7 and 90."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a noncurrent object version is kept (versioning only)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "noncurrent_versions_kept" {
  description = "Noncurrent versions of one object kept at most (versioning only)."
  type        = number
  default     = 3
  validation {
    condition     = var.noncurrent_versions_kept >= 1
    error_message = "noncurrent_versions_kept must be at least 1."
  }
}

variable "nearline_after_days" {
  description = "Move landing objects to NEARLINE after this many days; null keeps them STANDARD."
  type        = number
  default     = null
  validation {
    condition     = var.nearline_after_days == null || try(var.nearline_after_days >= 30, false)
    error_message = "nearline_after_days must be null or at least 30 (NEARLINE has a 30-day minimum storage duration)."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket that receives the landing bucket's usage logs; null: none."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the landing bucket with its objects."
  type        = bool
  default     = false
}

variable "bucket_per_catalog" {
  description = "Each catalog gets a dedicated bucket, created at run time, whose notifications reach on_object_event through Pub/Sub."
  type        = bool
  default     = false
}

# --- Firestore -----------------------------------------------------------------------------------

variable "firestore_database" {
  description = "Firestore database id; `(default)` gets the free tier."
  type        = string
  default     = "(default)"
  validation {
    condition     = var.firestore_database == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database))
    error_message = "firestore_database must be (default) or 4-63 lowercase letters, digits and hyphens."
  }
}

variable "firestore_location" {
  description = "Firestore location (region or multi-region such as eur3, nam5); null: the region."
  type        = string
  default     = null
}

variable "create_firestore_database" {
  description = "Create the database; false if it already exists (its indexes are still managed)."
  type        = bool
  default     = true
}

variable "firestore_deletion_protection" {
  description = "Protect the database from deletion (set false and apply before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "firestore_point_in_time_recovery" {
  description = "Keep 7 days of versions for point-in-time recovery (billed as storage)."
  type        = bool
  default     = false
}

variable "firestore_indexes_file" {
  description = "The gcp backend's index file; null: shared/dynastore/backends/gcp/firestore_indexes.json of this repository."
  type        = string
  default     = null
}

variable "collection_prefix" {
  description = "Prefix of every Firestore collection, to share a database between deployments."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[a-z0-9_-]{0,32}$", var.collection_prefix))
    error_message = "collection_prefix must be at most 32 lowercase letters, digits, hyphens or underscores."
  }
}

# --- tasks ---------------------------------------------------------------------------------------

variable "queue_prefix" {
  description = "Prefix of the Cloud Tasks queues (deployment-wide and per catalog); null: name_prefix."
  type        = string
  default     = null
  validation {
    condition     = var.queue_prefix == null || can(regex("^[a-z][a-z0-9-]{0,30}$", var.queue_prefix))
    error_message = "queue_prefix must be at most 31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "task_queue" {
  description = "Rate and retry settings of the deployment-wide task queue; unset ones take the defaults in queues/variables.tf."
  type = object({
    max_dispatches_per_second = optional(number)
    max_concurrent_dispatches = optional(number)
    min_backoff               = optional(string)
    max_backoff               = optional(string)
    max_doublings             = optional(number)
    max_retry_duration        = optional(string)
  })
  default = {}
  validation {
    condition     = (var.task_queue.max_dispatches_per_second == null ? true : var.task_queue.max_dispatches_per_second > 0 && var.task_queue.max_dispatches_per_second <= 500) && (var.task_queue.max_concurrent_dispatches == null ? true : var.task_queue.max_concurrent_dispatches >= 1)
    error_message = "task_queue.max_dispatches_per_second must be in (0, 500] and max_concurrent_dispatches at least 1."
  }
}

variable "task_max_attempts" {
  description = "Attempts of one task before its job is marked failed."
  type        = number
  default     = 3
  validation {
    condition     = var.task_max_attempts >= 1 && var.task_max_attempts <= 100
    error_message = "task_max_attempts must be between 1 and 100."
  }
}

# --- API -----------------------------------------------------------------------------------------

variable "api_public" {
  description = "Anyone can reach the API (which still checks its API keys); false: only api_invokers (Google identities)."
  type        = bool
  default     = true
}

variable "api_invokers" {
  description = "Principals allowed to call the API when api_public is false (user:, group:, serviceAccount:)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for member in var.api_invokers : can(regex("^(user|group|serviceAccount|domain):.+$", member))])
    error_message = "api_invokers entries look like user:alice@example.com, group:..., serviceAccount:... or domain:..."
  }
}

variable "api_keys_secret_id" {
  description = "Existing Secret Manager secret (id) whose latest version is `key:role,key:role`; null: create one with a generated admin key."
  type        = string
  default     = null
  validation {
    condition     = var.api_keys_secret_id == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.api_keys_secret_id))
    error_message = "api_keys_secret_id must be a secret id (not a full resource name and not the keys themselves)."
  }
}

variable "public_read" {
  description = "Serve GET requests without an API key."
  type        = bool
  default     = false
}

variable "base_url" {
  description = "Public URL of the API, for links (e.g. behind a load balancer); null: from each request."
  type        = string
  default     = null
  validation {
    condition     = var.base_url == null || can(regex("^https://", var.base_url))
    error_message = "base_url must start with https://."
  }
}

variable "max_upload_bytes" {
  description = "Largest upload through the API (direct uploads use signed URLs and are not limited by it)."
  type        = number
  default     = 33554432 # 32 MiB: Cloud Functions caps HTTP request bodies at 32 MiB
  validation {
    condition     = var.max_upload_bytes >= 1
    error_message = "max_upload_bytes must be positive."
  }
}

# --- lifecycle -----------------------------------------------------------------------------------

variable "retention_days" {
  description = "Days before retired catalogs and soft-deleted assets are purged by the cleanup job."
  type        = number
  default     = 30
  validation {
    condition     = var.retention_days >= 0
    error_message = "retention_days must not be negative."
  }
}

variable "cleanup_schedule" {
  description = "Cron schedule of the cleanup job."
  type        = string
  default     = "17 3 * * *"
}

variable "reconcile_schedule" {
  description = "Cron schedule of the reconcile job (lists the buckets: keep it infrequent for large buckets)."
  type        = string
  default     = "41 */6 * * *"
}

variable "time_zone" {
  description = "Time zone of the schedules."
  type        = string
  default     = "Etc/UTC"
}

# --- functions -----------------------------------------------------------------------------------

variable "log_level" {
  description = "Log level of the functions."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "function_overrides" {
  description = "Per-function sizing overrides, keyed by target (api, on_object_event, run_task, scheduled, on_stac_event)."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
    ingress         = optional(string)
  }))
  default = {}
  validation {
    condition     = alltrue([for target in keys(var.function_overrides) : contains(["api", "on_object_event", "run_task", "scheduled", "on_stac_event"], target)])
    error_message = "function_overrides keys must be api, on_object_event, run_task, scheduled or on_stac_event."
  }
  validation {
    condition = alltrue([
      for settings in values(var.function_overrides) :
      settings.ingress == null || contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], coalesce(settings.ingress, "ALLOW_ALL"))
    ])
    error_message = "ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

# --- publish envelopes (seed 003) ----------------------------------------------------------------

variable "esgf_catalog_id" {
  description = "Catalog an envelope from the topic applies to when its message has no catalog_id attribute (DYNASTORE_ESGF_CATALOG_ID)."
  type        = string
  default     = "esgf"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$", var.esgf_catalog_id))
    error_message = "esgf_catalog_id must be a catalog id (1-255 of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit)."
  }
}

variable "esgf_publishers" {
  description = "Principals allowed to publish envelopes to the topic (e.g. serviceAccount:publisher@P.iam.gserviceaccount.com); nobody else may."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for member in var.esgf_publishers : can(regex("^(user|serviceAccount|group|domain|principal|principalSet):", member))])
    error_message = "esgf_publishers entries are IAM members (serviceAccount:..., group:..., user:...); never allUsers."
  }
}
