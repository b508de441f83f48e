# Object events: S3 -> <prefix>-object-events (DLQ <prefix>-object-events-dlq) -> on_object_event.
# Tasks: the backend's default queue <queue_prefix>-dynastore-tasks (DLQ <queue_prefix>-dlq) -> run_task.
# Envelopes: <prefix>-esgf-events (DLQ <prefix>-esgf-events-dlq) -> on_stac_event (below).

resource "aws_sqs_queue" "object_events_dlq" {
  name                      = "${local.events_queue_name}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

resource "aws_sqs_queue" "object_events" {
  name                       = local.events_queue_name
  visibility_timeout_seconds = 6 * local.function_timeout.on_object_event
  kms_master_key_id          = aws_kms_key.this.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.object_events_dlq.arn
    maxReceiveCount     = var.task_max_attempts
  })
  tags = local.tags
}

data "aws_iam_policy_document" "object_events" {
  statement {
    sid       = "LandingBucketSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.object_events.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.landing_arn, local.catalog_buckets] # per-catalog buckets notify the same queue
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "object_events" {
  queue_url = aws_sqs_queue.object_events.id
  policy    = data.aws_iam_policy_document.object_events.json
}

resource "aws_sqs_queue" "tasks_dlq" {
  name                      = local.tasks_dlq_name
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

resource "aws_sqs_queue" "tasks" {
  name                       = local.tasks_queue_name
  visibility_timeout_seconds = 6 * local.function_timeout.run_task
  kms_master_key_id          = aws_kms_key.this.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.tasks_dlq.arn
    maxReceiveCount     = var.task_max_attempts
  })
  tags = local.tags
}

# Maintenance invocations the scheduler could not deliver, and failed async invocations.
resource "aws_sqs_queue" "maintenance_dlq" {
  name                      = "${var.name_prefix}-maintenance-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

resource "aws_lambda_event_source_mapping" "object_events" {
  event_source_arn                   = aws_sqs_queue.object_events.arn
  function_name                      = module.functions.function_arns.on_object_event
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
}

resource "aws_lambda_event_source_mapping" "tasks" {
  event_source_arn        = aws_sqs_queue.tasks.arn
  function_name           = module.functions.function_arns.run_task
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
}

# Publish envelopes (seed 003): <prefix>-esgf-events (DLQ <prefix>-esgf-events-dlq) -> on_stac_event.
# One envelope per message body; the message attribute catalog_id picks the catalog.

resource "aws_sqs_queue" "esgf_events_dlq" {
  name                      = "${var.name_prefix}-esgf-events-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = local.tags
}

resource "aws_sqs_queue" "esgf_events" {
  name                       = "${var.name_prefix}-esgf-events"
  visibility_timeout_seconds = 6 * local.function_timeout.on_stac_event
  message_retention_seconds  = 1209600
  kms_master_key_id          = aws_kms_key.this.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.esgf_events_dlq.arn
    maxReceiveCount     = max(5, var.task_max_attempts) # a lost race is retried a few times before the DLQ
  })
  tags = local.tags
}

data "aws_iam_policy_document" "esgf_events" {
  count = length(var.esgf_publisher_arns) > 0 ? 1 : 0
  statement {
    sid       = "PublishersSend"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.esgf_events.arn]
    principals {
      type        = "AWS"
      identifiers = var.esgf_publisher_arns
    }
  }
}

resource "aws_sqs_queue_policy" "esgf_events" {
  count     = length(var.esgf_publisher_arns) > 0 ? 1 : 0
  queue_url = aws_sqs_queue.esgf_events.id
  policy    = data.aws_iam_policy_document.esgf_events[0].json
}

resource "aws_lambda_event_source_mapping" "esgf_events" {
  event_source_arn                   = aws_sqs_queue.esgf_events.arn
  function_name                      = module.functions.function_arns.on_stac_event
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
}
