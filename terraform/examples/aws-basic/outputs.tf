output "api_url" {
  description = "Base URL of the HTTP API."
  value       = module.dynastore.api_url
}

output "landing_bucket" {
  description = "Upload {catalog}/{collection}/{item}/... objects here to have them indexed."
  value       = module.dynastore.landing_bucket
}

output "api_keys_secret_arn" {
  description = "Put the API keys (key:role,...) in this secret."
  value       = module.dynastore.api_keys_secret_arn
}

output "esgf_queue_url" {
  description = "Send ESGF envelopes (seed 003) to this SQS queue (message attribute catalog_id optional)."
  value       = module.dynastore.esgf_queue_url
}
