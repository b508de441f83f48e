variable "name_prefix" {
  description = "Prefix of every resource name (bucket, table, queues, functions, roles)."
  type        = string
  default     = "dyn"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the deployment (the provider's region)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region: an AWS region such as eu-west-1."
  }
}

variable "landing_bucket_name" {
  description = "Name of the landing bucket; default <name_prefix>-landing-<account id>."
  type        = string
  default     = null
  validation {
    condition     = var.landing_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.landing_bucket_name))
    error_message = "landing_bucket_name: a valid S3 bucket name (3-63 lower-case letters, digits, dots, dashes)."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days S3 keeps overwritten or deleted object versions (the undo window) before expiring them."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "function_bundle" {
  description = "Path of dist/functions/dynastore-aws.zip (scripts/package_functions.py --cloud aws)."
  type        = string
  validation {
    condition     = endswith(var.function_bundle, ".zip")
    error_message = "function_bundle: the .zip written by scripts/package_functions.py --cloud aws."
  }
}

variable "dependencies_layer" {
  description = "Path of dist/functions/dynastore-aws-deps.zip (package_functions.py --cloud aws --with-dependencies)."
  type        = string
  validation {
    condition     = endswith(var.dependencies_layer, ".zip")
    error_message = "dependencies_layer: the .zip written by scripts/package_functions.py --with-dependencies."
  }
}

variable "runtime" {
  description = "Lambda runtime; must match --python-version of the packager."
  type        = string
  default     = "python3.12"
  validation {
    condition     = can(regex("^python3\\.(1[1-9])$", var.runtime))
    error_message = "runtime: python3.11 or later."
  }
}

variable "bucket_per_catalog" {
  description = "Give every catalog its own bucket <landing>-<catalog> (created at run time, notifying the object-events queue) instead of a prefix of the landing bucket."
  type        = bool
  default     = false
}

variable "public_read" {
  description = "Serve GET requests without an API key."
  type        = bool
  default     = false
}

variable "base_url" {
  description = "Public URL of the API (a custom domain); default: the API Gateway URL from the request."
  type        = string
  default     = null
  validation {
    condition     = var.base_url == null || can(regex("^https://", var.base_url))
    error_message = "base_url must start with https://."
  }
}

variable "retention_days" {
  description = "Days before retired catalogs and soft-deleted assets are purged (DYNASTORE_RETENTION_DAYS)."
  type        = number
  default     = 30
  validation {
    condition     = var.retention_days >= 0
    error_message = "retention_days must not be negative."
  }
}

variable "task_max_attempts" {
  description = "Deliveries of a task or object event before it goes to the dead-letter queue."
  type        = number
  default     = 3
  validation {
    condition     = var.task_max_attempts >= 1 && var.task_max_attempts <= 10
    error_message = "task_max_attempts: 1 to 10."
  }
}

variable "max_upload_bytes" {
  description = "Largest upload through the API (API Gateway caps a request body at 10 MB; larger files go straight to S3)."
  type        = number
  default     = 10485760
}

variable "log_level" {
  description = "Log level of the functions."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level: DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps function and API access logs."
  type        = number
  default     = 365
}

variable "schedules" {
  description = "EventBridge Scheduler expressions of the maintenance actions (cleanup, reconcile)."
  type        = map(string)
  default = {
    cleanup   = "cron(17 3 * * ? *)"
    reconcile = "rate(6 hours)"
  }
  validation {
    condition     = alltrue([for action in keys(var.schedules) : contains(["all", "cleanup", "reconcile"], action)])
    error_message = "schedules: keys are maintenance actions (all, cleanup, reconcile)."
  }
}

variable "teardown" {
  description = "Allow terraform destroy to remove the bucket with its objects and the table (tests, demos)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "esgf_catalog_id" {
  description = "Catalog an envelope from the envelope queue applies to when its message has no catalog_id attribute (DYNASTORE_ESGF_CATALOG_ID)."
  type        = string
  default     = "esgf"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$", var.esgf_catalog_id))
    error_message = "esgf_catalog_id must be a catalog id (1-255 of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit)."
  }
}

variable "esgf_publisher_arns" {
  description = "IAM principals (role/user ARNs, also of other accounts) allowed to send envelopes to the envelope queue; same-account principals may also be allowed by their own IAM policy."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for arn in var.esgf_publisher_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", arn))])
    error_message = "esgf_publisher_arns entries are IAM ARNs (arn:aws:iam::<account>:role/...); never \"*\"."
  }
}
