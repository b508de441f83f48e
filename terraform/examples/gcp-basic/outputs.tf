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
