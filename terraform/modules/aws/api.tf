# API Gateway HTTP API -> the api function (payload format 2.0, Mangum). Authentication is the
# application's (API keys in the X-API-Key / Authorization header, roles and catalog scopes).

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name_prefix}-api"
  protocol_type = "HTTP"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = module.functions.invoke_arns.api
  payload_format_version = "2.0"
  timeout_milliseconds   = local.function_timeout.api * 1000
}

resource "aws_apigatewayv2_route" "default" {
  #checkov:skip=CKV_AWS_309:the app authenticates every route itself (API keys with roles and catalog scopes, README Security); an API Gateway authorizer would duplicate it and break public_read
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name_prefix}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId = "$context.requestId", ip = "$context.identity.sourceIp", method = "$context.httpMethod",
      path      = "$context.path", status = "$context.status", latency = "$context.responseLatency",
      error     = "$context.integrationErrorMessage"
    })
  }
  default_route_settings {
    throttling_burst_limit = 200
    throttling_rate_limit  = 100
  }
  tags = local.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "ApiGatewayInvokes"
  action        = "lambda:InvokeFunction"
  function_name = module.functions.function_names.api
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
