output "function_names" {
  description = "Handler => function name."
  value       = { for target, function in aws_lambda_function.this : target => function.function_name }
}

output "function_arns" {
  description = "Handler => function ARN."
  value       = { for target, function in aws_lambda_function.this : target => function.arn }
}

output "invoke_arns" {
  description = "Handler => invoke ARN (API Gateway integrations)."
  value       = { for target, function in aws_lambda_function.this : target => function.invoke_arn }
}
