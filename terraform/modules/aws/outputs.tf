output "api_url" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "landing_bucket" {
  description = "Bucket whose {catalog}/{collection}/{item}/... objects are indexed."
  value       = aws_s3_bucket.landing.bucket
}

output "table_name" {
  description = "DynamoDB table of the records."
  value       = aws_dynamodb_table.metadata.name
}

output "api_keys_secret_arn" {
  description = "Secrets Manager secret to put the API keys in (key:role,...)."
  value       = aws_secretsmanager_secret.api_keys.arn
}

output "queues" {
  description = "URLs of the object-event, task and publish-envelope queues and their dead-letter queues."
  value = {
    object_events     = aws_sqs_queue.object_events.url
    object_events_dlq = aws_sqs_queue.object_events_dlq.url
    tasks             = aws_sqs_queue.tasks.url
    tasks_dlq         = aws_sqs_queue.tasks_dlq.url
    maintenance_dlq   = aws_sqs_queue.maintenance_dlq.url
    esgf_events       = aws_sqs_queue.esgf_events.url
    esgf_events_dlq   = aws_sqs_queue.esgf_events_dlq.url
  }
}

output "function_names" {
  description = "Handler name => Lambda function name."
  value       = module.functions.function_names
}

output "esgf_queue_url" {
  description = "SQS queue of the seed 003 publish envelopes (one envelope per message; attribute catalog_id optional)."
  value       = aws_sqs_queue.esgf_events.url
}
