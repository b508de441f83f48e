# EventBridge Scheduler -> maintenance with {"action": <schedule key>} (functions/aws/handlers.py).

resource "aws_scheduler_schedule" "maintenance" {
  for_each                     = var.schedules
  name                         = "${var.name_prefix}-${each.key}"
  schedule_expression          = each.value
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.this.arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = module.functions.function_arns.maintenance
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ action = each.key })
    retry_policy {
      maximum_retry_attempts = 2
    }
    dead_letter_config {
      arn = aws_sqs_queue.maintenance_dlq.arn
    }
  }
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [module.functions.function_arns.maintenance]
  }
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.maintenance_dlq.arn]
  }
  statement {
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-maintenance"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
