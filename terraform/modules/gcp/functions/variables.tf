variable "project_id" {
  description = "Project of the deployment."
  type        = string
}

variable "region" {
  description = "Region of the functions, the Eventarc triggers and the task queues."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "labels" {
  description = "Labels applied to every resource that takes them."
  type        = map(string)
  default     = {}
}

# --- source --------------------------------------------------------------------------------------

variable "source_archive" {
  description = "Path of the bundle built by scripts/package_functions.py."
  type        = string
}

variable "artifacts_bucket" {
  description = "Bucket the bundle is uploaded to, named by its SHA-256."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions Python runtime (match --python-version of the packager)."
  type        = string
}

# --- what the functions talk to ------------------------------------------------------------------

variable "landing_bucket" {
  description = "Landing bucket (DYNASTORE_GCP_BUCKET); its object events trigger on_object_event."
  type        = string
}

variable "database_name" {
  description = "Firestore database id (DYNASTORE_GCP_FIRESTORE_DATABASE)."
  type        = string
}

variable "collection_prefix" {
  description = "Prefix of the Firestore collections (DYNASTORE_GCP_COLLECTION_PREFIX)."
  type        = string
}

variable "queue_prefix" {
  description = "Prefix of the Cloud Tasks queues (DYNASTORE_GCP_TASKS_QUEUE_PREFIX)."
  type        = string
}

variable "bucket_per_catalog" {
  description = "Catalogs get dedicated buckets at run time (DYNASTORE_GCP_BUCKET_PER_CATALOG)."
  type        = bool
}

variable "notification_topic" {
  description = "Short name of the topic per-catalog buckets notify (DYNASTORE_GCP_NOTIFICATION_TOPIC); \"\" when off."
  type        = string
}

variable "notification_topic_id" {
  description = "Full id of that topic (projects/P/topics/T), or null when bucket-per-catalog mode is off."
  type        = string
  default     = null
}

# --- identities ----------------------------------------------------------------------------------

variable "service_accounts" {
  description = "Runtime service account email of each function, keyed by target name."
  type        = map(string)
}

variable "tasks_invoker_email" {
  description = "Identity Cloud Tasks signs OIDC tokens as when it calls run_task (DYNASTORE_GCP_TASKS_SERVICE_ACCOUNT)."
  type        = string
}

variable "events_invoker_email" {
  description = "Identity of the Eventarc triggers (invokes on_object_event)."
  type        = string
}

variable "build_service_account_id" {
  description = "Full id (projects/P/serviceAccounts/E) of the identity Cloud Build uses to build the functions."
  type        = string
}

variable "build_service_account_email" {
  description = "Email of that identity."
  type        = string
}

# --- API exposure and keys -----------------------------------------------------------------------

variable "api_public" {
  description = "Anyone may reach the `api` function (it still enforces its API keys); false: only api_invokers."
  type        = bool
}

variable "api_invokers" {
  description = "Principals allowed to invoke `api` when it is not public (e.g. group:team@example.com)."
  type        = list(string)
  default     = []
}

variable "api_keys_secret_id" {
  description = "Existing Secret Manager secret (short id) whose latest version is DYNASTORE_API_KEYS; null: create one with a generated admin key."
  type        = string
  default     = null
}

# --- service settings ----------------------------------------------------------------------------

variable "public_read" {
  description = "Serve GET requests without a key (DYNASTORE_PUBLIC_READ)."
  type        = bool
}

variable "base_url" {
  description = "Public URL of the API for links (DYNASTORE_BASE_URL); null: from each request."
  type        = string
  default     = null
}

variable "retention_days" {
  description = "Days before retired catalogs and soft-deleted assets are purged (DYNASTORE_RETENTION_DAYS)."
  type        = number
}

variable "task_max_attempts" {
  description = "Attempts of one task (DYNASTORE_TASK_MAX_ATTEMPTS; also the queues' retry limit)."
  type        = number
}

variable "max_upload_bytes" {
  description = "Largest upload the API accepts (DYNASTORE_MAX_UPLOAD_BYTES)."
  type        = number
}

variable "log_level" {
  description = "Python log level of the functions (DYNASTORE_LOG_LEVEL)."
  type        = string
}

variable "function_settings" {
  description = "Sizing of each function, keyed by target name."
  type = map(object({
    memory          = string
    cpu             = string
    timeout_seconds = number
    max_instances   = number
    concurrency     = number
    ingress         = string
  }))
}

# --- publish envelopes (seed 003) ----------------------------------------------------------------

variable "esgf_topic_id" {
  description = "Full id (projects/P/topics/T) of the topic publishers send envelopes to; its Eventarc trigger calls on_stac_event."
  type        = string
}

variable "esgf_dead_letter_topic_id" {
  description = "Full id of the topic envelopes go to after the last failed delivery."
  type        = string
}

variable "esgf_catalog_id" {
  description = "Catalog an envelope applies to when its message has no catalog_id attribute (DYNASTORE_ESGF_CATALOG_ID)."
  type        = string
}

variable "pubsub_agent" {
  description = "The project's Pub/Sub service agent, member form (forwards dead letters)."
  type        = string
}
