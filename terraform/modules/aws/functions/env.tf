# The environment of every function: the Settings of shared/dynastore/config.py (prefix DYNASTORE_).
# Locals only, built from variables alone, so tests/terraform can evaluate it with `terraform
# console` and check every name against the Settings class.

locals {
  # Handler of functions/aws/handlers.py => Lambda function name (the handler is handlers.<key>).
  function_names = {
    api             = "${var.name_prefix}-api"
    on_object_event = "${var.name_prefix}-on-object-event"
    run_task        = "${var.name_prefix}-run-task"
    maintenance     = "${var.name_prefix}-maintenance"
    on_stac_event   = "${var.name_prefix}-on-stac-event"
  }

  common_env = {
    DYNASTORE_BACKEND          = "aws"
    DYNASTORE_AWS_REGION       = var.region
    DYNASTORE_AWS_BUCKET       = var.landing_bucket
    DYNASTORE_AWS_TABLE_PREFIX = var.table_prefix
    DYNASTORE_AWS_QUEUE_PREFIX = var.queue_prefix
    # Per-catalog buckets send their object events to the one queue on_object_event consumes.
    DYNASTORE_AWS_BUCKET_PER_CATALOG     = tostring(var.bucket_per_catalog)
    DYNASTORE_AWS_NOTIFICATION_QUEUE_ARN = var.notification_queue_arn
    DYNASTORE_RETENTION_DAYS             = tostring(var.retention_days)
    DYNASTORE_TASK_MAX_ATTEMPTS          = tostring(var.task_max_attempts)
    DYNASTORE_LOG_LEVEL                  = var.log_level
    POWERTOOLS_SERVICE_NAME              = "dynastore"
    POWERTOOLS_LOG_LEVEL                 = var.log_level
  }

  # What differs per function. Optional settings are left out when unset (the default applies).
  function_env = {
    api = {
      for key, value in {
        DYNASTORE_PUBLIC_READ      = tostring(var.public_read)
        DYNASTORE_MAX_UPLOAD_BYTES = tostring(var.max_upload_bytes)
        DYNASTORE_BASE_URL         = var.base_url
        # The keys themselves stay in Secrets Manager; the handler reads them at cold start.
        DYNASTORE_AWS_API_KEYS_SECRET_ARN = var.api_keys_secret_arn
      } : key => value if value != null
    }
    on_object_event = {}
    run_task        = {}
    maintenance     = {}
    # The catalog of an envelope whose message has no catalog_id attribute.
    on_stac_event = { DYNASTORE_ESGF_CATALOG_ID = var.esgf_catalog_id }
  }

  environment = {
    for target in keys(local.function_names) : target => merge(local.common_env, local.function_env[target])
  }
}
