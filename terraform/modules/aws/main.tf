# Dynastore Assets on AWS: S3 landing bucket -> SQS -> Lambda indexing, DynamoDB records, SQS task
# queue -> Lambda worker, API Gateway HTTP API -> Lambda API, EventBridge Scheduler -> maintenance,
# SQS publish-envelope queue (seed 003) -> Lambda on_stac_event.
# Names follow the aws backend: table <table_prefix>-metadata (pk/sk, gsi1, TTL expires_at),
# task queues <queue_prefix>-<name> with the dead-letter queue <queue_prefix>-dlq.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  landing_bucket = coalesce(var.landing_bucket_name, "${var.name_prefix}-landing-${local.account_id}")
  table_prefix   = var.name_prefix
  table_name     = "${local.table_prefix}-metadata"
  queue_prefix   = var.name_prefix
  # services/jobs/dispatch.py DEFAULT_QUEUE; the backend names it <queue_prefix>-<queue>.
  default_task_queue = "dynastore-tasks"
  tasks_queue_name   = "${local.queue_prefix}-${local.default_task_queue}"
  tasks_dlq_name     = "${local.queue_prefix}-dlq"
  events_queue_name  = "${var.name_prefix}-object-events"
  # Every Lambda processes a batch within this; SQS hides a message 6x as long (AWS guidance).
  function_timeout = { api = 29, on_object_event = 120, run_task = 900, maintenance = 900, on_stac_event = 120 }
  tags             = merge({ app = "dynastore" }, var.tags)
}

# One customer-managed key for the deployment's data at rest: bucket, table, queues, secret, logs, env.
resource "aws_kms_key" "this" {
  description         = "${var.name_prefix}: Dynastore data at rest"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.kms.json
  tags                = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-dynastore"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:a key policy's "*" resource is the key itself (KMS key policies cannot name other resources)
  #checkov:skip=CKV_AWS_356:a key policy's "*" resource is the key itself (KMS key policies cannot name other resources)
  #checkov:skip=CKV_AWS_109:the account root administers its own key (the AWS default key policy); IAM policies then decide who may use it
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  # S3 encrypts the notifications it sends to the (encrypted) object-events queue.
  statement {
    sid       = "S3SendsObjectEvents"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
  }
  # Publishers of envelopes encrypt what they send to the (encrypted) envelope queue.
  dynamic "statement" {
    for_each = length(var.esgf_publisher_arns) > 0 ? [1] : []
    content {
      sid       = "EsgfPublishersSend"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.esgf_publisher_arns
      }
    }
  }
}

# --- secrets: the API keys (value set out of band, never in Terraform state) -----------------------

resource "aws_secretsmanager_secret" "api_keys" {
  #checkov:skip=CKV2_AWS_57:API keys are issued to people and rotated by the operator (a new secret value); there is no rotation Lambda that could mint keys
  name        = "${var.name_prefix}-api-keys"
  description = "DYNASTORE_API_KEYS of the api function: key:role[@catA|catB],... (set with aws secretsmanager put-secret-value)"
  kms_key_id  = aws_kms_key.this.arn
  tags        = local.tags
}

# --- the functions ----------------------------------------------------------------------------------

module "functions" {
  source = "./functions"

  name_prefix        = var.name_prefix
  region             = var.region
  landing_bucket     = local.landing_bucket
  table_prefix       = local.table_prefix
  queue_prefix       = local.queue_prefix
  bucket_per_catalog = var.bucket_per_catalog
  # The ARN is built, not read from the queue resource, so the functions do not wait for the queues.
  notification_queue_arn = "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${local.events_queue_name}"
  api_keys_secret_arn    = aws_secretsmanager_secret.api_keys.arn
  public_read            = var.public_read
  base_url               = var.base_url
  retention_days         = var.retention_days
  task_max_attempts      = var.task_max_attempts
  max_upload_bytes       = var.max_upload_bytes
  log_level              = var.log_level
  function_bundle        = var.function_bundle
  dependencies_layer     = var.dependencies_layer
  runtime                = var.runtime
  timeouts               = local.function_timeout
  role_arns              = { for target, role in aws_iam_role.function : target => role.arn }
  kms_key_arn            = aws_kms_key.this.arn
  log_retention_days     = var.log_retention_days
  maintenance_dlq_arn    = aws_sqs_queue.maintenance_dlq.arn
  esgf_catalog_id        = var.esgf_catalog_id
  tags                   = local.tags
}
