output "function_names" {
  description = "Function name of each functions-framework target."
  value       = { for target, fn in google_cloudfunctions2_function.this : target => fn.name }
}

output "function_urls" {
  description = "HTTPS URL of each function (cloudfunctions.net form)."
  value       = local.function_urls
}

output "service_uris" {
  description = "run.app URL of each function's Cloud Run service."
  value       = { for target, fn in google_cloudfunctions2_function.this : target => fn.service_config[0].uri }
}

output "api_url" {
  description = "Base URL of the HTTP API."
  value       = google_cloudfunctions2_function.this["api"].url
}

output "bundle_object" {
  description = "gs:// URL of the deployed source bundle (its name is the bundle's SHA-256)."
  value       = "gs://${var.artifacts_bucket}/${google_storage_bucket_object.bundle.name}"
}

output "api_keys_secret" {
  description = "Secret Manager secret that holds DYNASTORE_API_KEYS."
  value       = local.api_keys_secret
}

output "admin_api_key" {
  description = "The generated admin API key (null when you brought your own secret)."
  value       = var.api_keys_secret_id == null ? random_password.admin_api_key[0].result : null
  sensitive   = true
}

output "esgf_subscription" {
  description = "The Pub/Sub subscription Eventarc created for the envelope topic."
  value       = google_eventarc_trigger.pubsub["esgf-events"].transport[0].pubsub[0].subscription
}

output "esgf_dead_letter_command" {
  description = "Run once after apply: attaches the dead-letter topic to the Eventarc subscription of the envelope topic."
  value       = local.esgf_dead_letter_command
}
