output "queue_names" {
  description = "Short names of the queues created here, by key."
  value       = { for key, queue in google_cloud_tasks_queue.this : key => queue.name }
}

output "failure_metric" {
  description = "Log-based metric counting failed task attempts (alert on it)."
  value       = "logging.googleapis.com/user/${google_logging_metric.task_attempt_failures.name}"
}
