# Buckets of a deployment: the landing bucket the functions index, and a private bucket for the
# function source bundles. In bucket-per-catalog mode, also the Pub/Sub topic that the buckets the
# service creates at run time send their object notifications to.

locals {
  # Cloud Storage accepts a soft-delete window of 0 (off) or 7 to 90 days.
  soft_delete_seconds = var.soft_delete_retention_days * 86400
}

resource "google_storage_bucket" "landing" {
  #checkov:skip=CKV_GCP_62:Usage logs are opt-in (var.access_log_bucket); the Cloud Audit Logs of the project already record data access when enabled.
  project                     = var.project_id
  name                        = var.landing_bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
  labels                      = var.labels

  versioning {
    enabled = var.versioning
  }

  soft_delete_policy {
    retention_duration_seconds = local.soft_delete_seconds
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = var.landing_bucket_name
    }
  }

  lifecycle_rule {
    action {
      type = "AbortIncompleteMultipartUpload"
    }
    condition {
      age = var.abort_incomplete_uploads_after_days
    }
  }

  # With versioning, noncurrent versions go after a number of days and beyond a number of newer ones.
  dynamic "lifecycle_rule" {
    for_each = var.versioning ? [
      { days_since_noncurrent_time = var.noncurrent_version_retention_days, num_newer_versions = null },
      { days_since_noncurrent_time = null, num_newer_versions = var.noncurrent_versions_kept },
    ] : []
    content {
      action {
        type = "Delete"
      }
      condition {
        days_since_noncurrent_time = lifecycle_rule.value.days_since_noncurrent_time
        num_newer_versions         = lifecycle_rule.value.num_newer_versions
        with_state                 = "ARCHIVED"
      }
    }
  }

  lifecycle {
    # Per-catalog buckets are named <landing>-<catalog> (the provisioner truncates to 54 characters
    # before adding a hash), and IAM conditions match that prefix: keep it intact.
    precondition {
      condition     = length(var.landing_bucket_name) <= 52 && can(regex("^[a-z0-9][a-z0-9-]*[a-z0-9]$", var.landing_bucket_name)) && !strcontains(var.landing_bucket_name, "goog")
      error_message = "The landing bucket name must be at most 52 lowercase letters, digits or hyphens, without \"goog\" (set landing_bucket_name or a shorter name_prefix)."
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.nearline_after_days == null ? [] : [var.nearline_after_days]
    content {
      action {
        type          = "SetStorageClass"
        storage_class = "NEARLINE"
      }
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD"]
      }
    }
  }
}

resource "google_storage_bucket" "artifacts" {
  #checkov:skip=CKV_GCP_62:Holds only build inputs (function source zips named by content hash); Cloud Build logs every read.
  #checkov:skip=CKV_GCP_78:Objects are immutable and named by their SHA-256 and Terraform recreates them from the repository; versioning would only keep copies of identical bytes.
  project                     = var.project_id
  name                        = var.artifacts_bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels

  soft_delete_policy {
    retention_duration_seconds = 0
  }
  # No lifecycle rule: Terraform deletes the previous bundle object when the content hash (the object
  # name) changes, so the bucket only ever holds the bundle the functions were built from.
}

# --- bucket-per-catalog mode ----------------------------------------------------------------------

data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_pubsub_topic" "catalog_notifications" {
  #checkov:skip=CKV_GCP_83:Carries object notifications only (bucket, key, generation), no object data; Google-managed encryption.
  count   = var.bucket_per_catalog ? 1 : 0
  project = var.project_id
  name    = "${var.name_prefix}-catalog-bucket-events"
  labels  = var.labels
}

# Cloud Storage publishes the notifications of the per-catalog buckets as its service agent. Granting
# it here means the service only needs storage.buckets.update to attach a notification at run time,
# never pubsub.topics.setIamPolicy.
resource "google_pubsub_topic_iam_member" "gcs_publishes_catalog_notifications" {
  count   = var.bucket_per_catalog ? 1 : 0
  project = var.project_id
  topic   = google_pubsub_topic.catalog_notifications[0].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
