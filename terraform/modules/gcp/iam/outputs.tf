output "function_service_accounts" {
  description = "Runtime service account email of each function, by target name."
  value       = { for name in keys(local.runtime) : name => google_service_account.this[name].email }
}

output "identities" {
  description = "Email and full id of each identity the deployment acts as (tasks_oidc: the OIDC tokens Cloud Tasks sends to run_task; eventarc: the Eventarc triggers; scheduler: the Cloud Scheduler jobs; build: Cloud Build), by name."
  value       = { for name, account in google_service_account.this : name => { email = account.email, id = account.id } }
}
