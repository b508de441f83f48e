# The Lambda functions of functions/aws/handlers.py, from one content-hashed bundle plus a
# dependencies layer (scripts/package_functions.py --cloud aws --with-dependencies): a code change
# changes source_code_hash and redeploys; nothing else does.

resource "aws_lambda_layer_version" "dependencies" {
  layer_name          = "${var.name_prefix}-dependencies"
  filename            = var.dependencies_layer
  source_code_hash    = filebase64sha256(var.dependencies_layer)
  compatible_runtimes = [var.runtime]
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.function_names
  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:the functions reach only AWS APIs (S3, DynamoDB, SQS, Secrets Manager); a VPC would add NAT or endpoints and nothing to protect
  #checkov:skip=CKV_AWS_272:the bundle is built reproducibly and deployed by hash from the operator's checkout; code signing needs a signing profile the operator owns
  #checkov:skip=CKV_AWS_115:reserved concurrency is taken from the account pool and fails apply on small accounts; SQS batch sizes and API Gateway throttling bound the load
  for_each         = local.function_names
  function_name    = each.value
  role             = var.role_arns[each.key]
  runtime          = var.runtime
  handler          = "handlers.${each.key}"
  filename         = var.function_bundle
  source_code_hash = filebase64sha256(var.function_bundle)
  layers           = [aws_lambda_layer_version.dependencies.arn]
  architectures    = ["x86_64"]
  memory_size      = each.key == "run_task" ? 2048 : 1024
  timeout          = var.timeouts[each.key]
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = local.environment[each.key]
  }
  tracing_config {
    mode = "Active"
  }
  dead_letter_config {
    target_arn = var.maintenance_dlq_arn
  }
  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.function]
}
