# The Cloud Functions (gen2) of functions/gcp/main.py, built from one source bundle.

# --- source and build ----------------------------------------------------------------------------

resource "google_storage_bucket_object" "bundle" {
  # Named by content: a code change is a new object (and a rebuild), an unchanged bundle is a no-op.
  name         = "functions/dynastore-gcp-${filesha256(var.source_archive)}.zip"
  bucket       = var.artifacts_bucket
  source       = var.source_archive
  content_type = "application/zip"
}

resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:Holds the function images only (built from this repository's code); Google-managed encryption.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "Images of the ${var.name_prefix} Cloud Functions (built by Cloud Build)."
  format        = "DOCKER"
  labels        = var.labels

  # Idle cost: keep the images of the last two deployments only.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "604800s"
    }
  }
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 2
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${var.build_service_account_email}"
}

# --- functions -----------------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "this" {
  for_each    = local.function_names
  project     = var.project_id
  location    = var.region
  name        = each.value
  description = "Dynastore Assets: functions-framework target `${each.key}`."
  labels      = var.labels

  build_config {
    runtime           = var.runtime
    entry_point       = each.key
    docker_repository = google_artifact_registry_repository.functions.id
    service_account   = var.build_service_account_id
    source {
      storage_source {
        bucket = var.artifacts_bucket
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    service_account_email            = var.service_accounts[each.key]
    available_memory                 = var.function_settings[each.key].memory
    available_cpu                    = var.function_settings[each.key].cpu
    timeout_seconds                  = var.function_settings[each.key].timeout_seconds
    max_instance_count               = var.function_settings[each.key].max_instances
    max_instance_request_concurrency = var.function_settings[each.key].concurrency
    min_instance_count               = 0 # idle cost: nothing runs between requests
    ingress_settings                 = var.function_settings[each.key].ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = local.environment[each.key]

    dynamic "secret_environment_variables" {
      for_each = local.secret_env[each.key]
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_secret_manager_secret_iam_member.api_reads_keys,
    google_secret_manager_secret_version.generated_api_keys,
  ]
}
