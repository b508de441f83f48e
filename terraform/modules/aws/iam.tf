# One role per function, each with only what its handler does:
#   api              objects + records, queues jobs, provisions/retires catalogs, reads the API keys secret
#   on_object_event  reads objects, writes records, provisions a catalog on its first file, consumes object events
#   run_task         objects + records, consumes and re-queues jobs
#   maintenance      reconcile (reads objects, writes records) and cleanup (deletes objects, buckets, queues)
#   on_stac_event    writes items and records from envelopes, deletes the files of a hard delete, consumes envelopes
# Statements with Sid "RuntimeProvisioning" cover what the aws backend creates and removes at run
# time (per-catalog queues <queue_prefix>-*, per-catalog buckets <landing>-*); tests/terraform
# compares them with the backend's SDK calls.

locals {
  targets          = ["api", "on_object_event", "run_task", "maintenance", "on_stac_event"]
  catalog_buckets  = "arn:${local.partition}:s3:::${local.landing_bucket}-*"
  landing_arn      = "arn:${local.partition}:s3:::${local.landing_bucket}"
  queue_arn_prefix = "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${local.queue_prefix}-*"
  table_arns       = [aws_dynamodb_table.metadata.arn, "${aws_dynamodb_table.metadata.arn}/index/*"]

  # Exactly the SDK calls of shared/dynastore/backends/aws (tests/terraform checks both directions):
  # get/head/presigned GET, list/head bucket; put/copy/presigned PUT, delete(s).
  object_read  = ["s3:GetObject", "s3:ListBucket"]
  object_write = ["s3:PutObject", "s3:DeleteObject"]
  records = [
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems", "dynamodb:ConditionCheckItem",
  ]
  # Sending a job creates its queue on first use (with the redrive policy to <queue_prefix>-dlq).
  queue_send = ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"]
  provision  = ["s3:CreateBucket", "s3:PutBucketNotification", "s3:DeleteBucket", "sqs:DeleteQueue", "sqs:ListQueues"]
  consume    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]

  grants = {
    api = {
      objects  = concat(local.object_read, local.object_write)
      records  = local.records
      runtime  = concat(local.queue_send, local.provision)
      consumes = []
      api_keys = true
    }
    on_object_event = {
      objects  = local.object_read
      records  = local.records
      runtime  = concat(local.queue_send, local.provision)
      consumes = [aws_sqs_queue.object_events.arn]
      api_keys = false
    }
    run_task = {
      objects  = concat(local.object_read, local.object_write)
      records  = local.records
      runtime  = local.queue_send
      consumes = [aws_sqs_queue.tasks.arn]
      api_keys = false
    }
    maintenance = {
      objects  = concat(local.object_read, local.object_write)
      records  = local.records
      runtime  = concat(local.queue_send, local.provision)
      consumes = []
      api_keys = false
    }
    on_stac_event = {
      objects  = concat(local.object_read, local.object_write)
      records  = local.records
      runtime  = []
      consumes = [aws_sqs_queue.esgf_events.arn]
      api_keys = false
    }
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = toset(local.targets)
  name               = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.grants

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${module.functions.function_names[each.key]}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions
  }
  statement {
    sid       = "FailedAsyncInvocations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.maintenance_dlq.arn]
  }
  statement {
    sid       = "DataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "Objects"
    actions   = each.value.objects
    resources = [local.landing_arn, "${local.landing_arn}/*", local.catalog_buckets, "${local.catalog_buckets}/*"]
  }
  statement {
    sid       = "Records"
    actions   = each.value.records
    resources = local.table_arns
  }
  dynamic "statement" {
    for_each = length(each.value.runtime) > 0 ? [1] : []
    content {
      sid       = "RuntimeProvisioning"
      actions   = each.value.runtime
      resources = [local.queue_arn_prefix, local.catalog_buckets]
    }
  }
  dynamic "statement" {
    for_each = length(each.value.consumes) > 0 ? [1] : []
    content {
      sid       = "ConsumeQueue"
      actions   = local.consume
      resources = each.value.consumes
    }
  }
  dynamic "statement" {
    for_each = each.value.api_keys ? [1] : []
    content {
      sid       = "ReadApiKeys"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.api_keys.arn]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.grants
  name     = "dynastore-${replace(each.key, "_", "-")}"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}
