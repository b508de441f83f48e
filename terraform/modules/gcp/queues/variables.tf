variable "project_id" {
  description = "Project that owns the queues."
  type        = string
}

variable "region" {
  description = "Cloud Tasks location (the functions' region)."
  type        = string
}

variable "queue_prefix" {
  description = "Prefix of every Cloud Tasks queue of the deployment (DYNASTORE_GCP_TASKS_QUEUE_PREFIX); per-catalog queues created at run time share it."
  type        = string
}

variable "queues" {
  description = "Deployment-wide queues created here, keyed by the suffix after `<queue_prefix>-`."
  type = map(object({
    max_dispatches_per_second = optional(number, 10)
    max_concurrent_dispatches = optional(number, 20)
    max_attempts              = optional(number, 3)
    min_backoff               = optional(string, "10s")
    max_backoff               = optional(string, "600s")
    max_doublings             = optional(number, 4)
    max_retry_duration        = optional(string, "86400s")
  }))
}

variable "log_sampling_ratio" {
  description = "Fraction of task attempts Cloud Tasks logs (1.0: every failure is visible in Cloud Logging)."
  type        = number
  default     = 1.0
}
