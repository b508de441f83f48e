output "api_url" {
  description = "Base URL of the API."
  value       = module.dynastore.api_url
}

output "landing_bucket" {
  description = "Bucket to upload files to."
  value       = module.dynastore.landing_bucket
}

output "api_keys_secret" {
  description = "Secret holding the API keys."
  value       = module.dynastore.api_keys_secret
}

output "admin_api_key" {
  description = "Generated admin key: `terraform output -raw admin_api_key`."
  value       = module.dynastore.admin_api_key
  sensitive   = true
}

output "scheduler_jobs" {
  description = "Cleanup and reconcile jobs."
  value       = module.dynastore.scheduler_jobs
}

output "task_failure_metric" {
  description = "Alert on this metric to see failing tasks."
  value       = module.dynastore.task_failure_metric
}

output "esgf_topic" {
  description = "Publish ESGF envelopes (seed 003) to this Pub/Sub topic (attribute catalog_id optional)."
  value       = module.dynastore.esgf_topic
}

output "esgf_dead_letter_command" {
  description = "Run once after the first apply: attaches the dead-letter topic to the envelope trigger's subscription."
  value       = module.dynastore.esgf_dead_letter_command
}
