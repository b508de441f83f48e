# DYNASTORE_API_KEYS comes from Secret Manager, never from a Terraform variable.
#
# Bring your own secret (api_keys_secret_id, recommended: the keys then never enter the Terraform
# state), or let the module create one holding a single generated admin key (it is in the state,
# marked sensitive, and printed by `terraform output -raw admin_api_key`). Add keys later with
# `gcloud secrets versions add` and redeploy (or restart) the api function.

resource "random_password" "admin_api_key" {
  count   = var.api_keys_secret_id == null ? 1 : 0
  length  = 40
  special = false
}

resource "google_secret_manager_secret" "api_keys" {
  count     = var.api_keys_secret_id == null ? 1 : 0
  project   = var.project_id
  secret_id = local.api_keys_secret
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "generated_api_keys" {
  count       = var.api_keys_secret_id == null ? 1 : 0
  secret      = google_secret_manager_secret.api_keys[0].id
  secret_data = "${random_password.admin_api_key[0].result}:admin"
}

resource "google_secret_manager_secret_iam_member" "api_reads_keys" {
  project   = var.project_id
  secret_id = var.api_keys_secret_id == null ? google_secret_manager_secret.api_keys[0].secret_id : var.api_keys_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts["api"]}"
}
