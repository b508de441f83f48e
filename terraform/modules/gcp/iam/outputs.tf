output "function_service_accounts" {
  description = "Runtime service account email of each function, by target name."
  value       = { for name in keys(local.runtime) : name => google_service_account.this[name].email }
}

output "tasks_invoker_email" {
  description = "Identity of the OIDC tokens Cloud Tasks sends to run_task."
  value       = google_service_account.this["tasks_oidc"].email
}

output "events_invoker_email" {
  description = "Identity of the Eventarc triggers."
  value       = google_service_account.this["eventarc"].email
}

output "scheduler_email" {
  description = "Identity of the Cloud Scheduler jobs."
  value       = google_service_account.this["scheduler"].email
}

output "build_service_account_id" {
  description = "Full id of the Cloud Build identity."
  value       = google_service_account.this["build"].id
}

output "build_service_account_email" {
  description = "Email of the Cloud Build identity."
  value       = google_service_account.this["build"].email
}
