# The environment of every function: the Settings of shared/dynastore/config.py (prefix DYNASTORE_).
#
# This file holds locals only, built from variables alone (no resource attributes), so that
#   - the URL of run_task is known before the functions exist (Cloud Functions gen2 URLs are
#     https://REGION-PROJECT.cloudfunctions.net/NAME), which avoids a dependency cycle, and
#   - tests/terraform can evaluate it with `terraform console` and check every variable name
#     against the Settings class.

locals {
  # Functions-framework target (entry point) => function name. Every target of functions/gcp/main.py
  # is deployed once, with the target as entry point.
  function_names = {
    api             = "${var.name_prefix}-api"
    on_object_event = "${var.name_prefix}-on-object-event"
    run_task        = "${var.name_prefix}-run-task"
    scheduled       = "${var.name_prefix}-scheduled"
    on_stac_event   = "${var.name_prefix}-on-stac-event"
  }

  function_urls = {
    for target, name in local.function_names : target => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}"
  }

  # Every gcp_* setting, plus the backend and what the whole service shares.
  common_env = {
    DYNASTORE_BACKEND                   = "gcp"
    DYNASTORE_GCP_PROJECT               = var.project_id
    DYNASTORE_GCP_REGION                = var.region
    DYNASTORE_GCP_BUCKET                = var.landing_bucket
    DYNASTORE_GCP_FIRESTORE_DATABASE    = var.database_name
    DYNASTORE_GCP_COLLECTION_PREFIX     = var.collection_prefix
    DYNASTORE_GCP_TASKS_QUEUE_PREFIX    = var.queue_prefix
    DYNASTORE_GCP_RUN_TASK_URL          = local.function_urls.run_task
    DYNASTORE_GCP_TASKS_SERVICE_ACCOUNT = var.tasks_invoker_email
    DYNASTORE_GCP_BUCKET_PER_CATALOG    = tostring(var.bucket_per_catalog)
    DYNASTORE_GCP_NOTIFICATION_TOPIC    = var.notification_topic
    # DYNASTORE_GCP_SIGNER_EMAIL is per function (its own identity), see function_env.
    DYNASTORE_RETENTION_DAYS    = tostring(var.retention_days)
    DYNASTORE_TASK_MAX_ATTEMPTS = tostring(var.task_max_attempts)
    DYNASTORE_LOG_LEVEL         = var.log_level
  }

  # What differs per function. Optional settings are left out when unset (the default applies).
  function_env = {
    api = {
      for key, value in {
        DYNASTORE_PUBLIC_READ      = tostring(var.public_read)
        DYNASTORE_MAX_UPLOAD_BYTES = tostring(var.max_upload_bytes)
        DYNASTORE_BASE_URL         = var.base_url
      } : key => value if value != null
    }
    on_object_event = {}
    run_task        = {}
    scheduled       = {}
    # The catalog of an envelope whose message has no catalog_id attribute.
    on_stac_event = { DYNASTORE_ESGF_CATALOG_ID = var.esgf_catalog_id }
  }

  environment = {
    for target in keys(local.function_names) : target => merge(
      local.common_env,
      # Signed URLs are signed through IAM signBlob as the function's own identity (no key file).
      { DYNASTORE_GCP_SIGNER_EMAIL = var.service_accounts[target] },
      local.function_env[target],
    )
  }

  # Settings read from Secret Manager (environment variable => secret), per function.
  secret_env = {
    api             = { DYNASTORE_API_KEYS = local.api_keys_secret }
    on_object_event = {}
    run_task        = {}
    scheduled       = {}
    on_stac_event   = {}
  }

  api_keys_secret = coalesce(var.api_keys_secret_id, "${var.name_prefix}-api-keys")
}
