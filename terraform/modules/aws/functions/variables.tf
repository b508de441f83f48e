variable "name_prefix" {
  description = "Prefix of the function names."
  type        = string
}

variable "region" {
  description = "AWS region (DYNASTORE_AWS_REGION)."
  type        = string
}

variable "landing_bucket" {
  description = "Landing bucket name (DYNASTORE_AWS_BUCKET)."
  type        = string
}

variable "table_prefix" {
  description = "Prefix of the DynamoDB table (<prefix>-metadata)."
  type        = string
}

variable "queue_prefix" {
  description = "SQS queue names are <queue_prefix>-<queue>; the task queue is <queue_prefix>-dynastore-tasks."
  type        = string
}

variable "bucket_per_catalog" {
  description = "Give every catalog its own bucket <landing>-<catalog> instead of a prefix of the landing bucket."
  type        = bool
}

variable "notification_queue_arn" {
  description = "ARN of the object-events queue that per-catalog buckets notify."
  type        = string
}

variable "api_keys_secret_arn" {
  description = "ARN of the Secrets Manager secret with the API keys (read by the api function only)."
  type        = string
}

variable "public_read" {
  description = "Serve GET requests without a key."
  type        = bool
}

variable "base_url" {
  description = "Public URL of the API, or null."
  type        = string
  default     = null
}

variable "retention_days" {
  description = "DYNASTORE_RETENTION_DAYS."
  type        = number
}

variable "task_max_attempts" {
  description = "DYNASTORE_TASK_MAX_ATTEMPTS."
  type        = number
}

variable "max_upload_bytes" {
  description = "DYNASTORE_MAX_UPLOAD_BYTES of the api function."
  type        = number
}

variable "log_level" {
  description = "DYNASTORE_LOG_LEVEL and POWERTOOLS_LOG_LEVEL."
  type        = string
}

variable "function_bundle" {
  description = "Path of the code bundle (dynastore-aws.zip)."
  type        = string
}

variable "dependencies_layer" {
  description = "Path of the dependencies layer (dynastore-aws-deps.zip)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
}

variable "timeouts" {
  description = "Handler => timeout in seconds."
  type        = map(number)
}

variable "role_arns" {
  description = "Handler => ARN of its IAM role."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "KMS key of the environment variables and logs."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function logs."
  type        = number
}

variable "maintenance_dlq_arn" {
  description = "Dead-letter queue of failed asynchronous invocations."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
}

variable "esgf_catalog_id" {
  description = "Catalog an envelope applies to when its message has no catalog_id attribute (DYNASTORE_ESGF_CATALOG_ID)."
  type        = string
}
