output "api_url" {
  description = "Base URL of the HTTP API (OpenAPI at <api_url>/api)."
  value       = module.functions.api_url
}

output "landing_bucket" {
  description = "Upload here (`{catalog}/{collection}/{item}/file`) and the file is indexed."
  value       = module.storage.landing_bucket
}

output "function_names" {
  description = "Cloud Function name of each functions-framework target."
  value       = module.functions.function_names
}

output "function_service_accounts" {
  description = "Runtime identity of each function."
  value       = module.iam.function_service_accounts
}

output "firestore_database" {
  description = "Firestore database id."
  value       = module.database.database_name
}

output "firestore_composite_indexes" {
  description = "Number of composite indexes created from the backend's index file."
  value       = module.database.composite_index_count
}

output "task_queues" {
  description = "Deployment-wide Cloud Tasks queues (per-catalog queues are created at run time)."
  value       = module.queues.queue_names
}

output "task_failure_metric" {
  description = "Log-based metric of failed task attempts; alert on it."
  value       = module.queues.failure_metric
}

output "scheduler_jobs" {
  description = "Cloud Scheduler jobs calling `scheduled`."
  value       = module.scheduler.job_names
}

output "catalog_notification_topic" {
  description = "Pub/Sub topic per-catalog buckets notify (\"\" unless bucket_per_catalog)."
  value       = module.storage.catalog_notification_topic
}

output "bundle_object" {
  description = "Deployed source bundle (named by its SHA-256)."
  value       = module.functions.bundle_object
}

output "api_keys_secret" {
  description = "Secret Manager secret holding DYNASTORE_API_KEYS."
  value       = module.functions.api_keys_secret
}

output "admin_api_key" {
  description = "Generated admin API key (null if you brought your own secret). `terraform output -raw admin_api_key`."
  value       = module.functions.admin_api_key
  sensitive   = true
}

output "esgf_topic" {
  description = "Pub/Sub topic of the seed 003 publish envelopes (one envelope per message; attribute catalog_id optional)."
  value       = module.esgf_events.topic
}

output "esgf_dead_letter_subscription" {
  description = "Subscription holding the envelopes on_stac_event failed on after every retry."
  value       = module.esgf_events.dead_letter_subscription
}

output "esgf_dead_letter_command" {
  description = "Run once after the first apply: attaches the dead-letter topic to Eventarc's subscription (Terraform cannot)."
  value       = module.functions.esgf_dead_letter_command
}
