output "landing_bucket" {
  description = "Name of the landing bucket."
  value       = google_storage_bucket.landing.name
}

output "artifacts_bucket" {
  description = "Name of the bucket that holds function source bundles."
  value       = google_storage_bucket.artifacts.name
}

output "catalog_notification_topic" {
  description = "Short name of the Pub/Sub topic per-catalog buckets notify (\"\" when the mode is off)."
  value       = var.bucket_per_catalog ? google_pubsub_topic.catalog_notifications[0].name : ""
}

output "catalog_notification_topic_id" {
  description = "Full id (projects/P/topics/T) of that topic, or null."
  value       = var.bucket_per_catalog ? google_pubsub_topic.catalog_notifications[0].id : null
}

output "gcs_service_agent" {
  description = "Email of the project's Cloud Storage service agent."
  value       = data.google_storage_project_service_account.gcs.email_address
}
