# Cloud Tasks queues created with the deployment. Per-catalog queues are created by the service at
# run time (Provisioner port) under the same prefix; the log-based metric below counts the failed
# attempts of all of them, so a failing task is visible whichever queue it is on.

resource "google_cloud_tasks_queue" "this" {
  for_each = var.queues
  project  = var.project_id
  location = var.region
  name     = "${var.queue_prefix}-${each.key}"

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.max_attempts
    min_backoff        = each.value.min_backoff
    max_backoff        = each.value.max_backoff
    max_doublings      = each.value.max_doublings
    max_retry_duration = each.value.max_retry_duration
  }

  # Cloud Tasks has no dead-letter queue: every attempt (and so every failure, with its HTTP status)
  # goes to Cloud Logging, and the job record in Firestore turns `failed` after the last attempt.
  stackdriver_logging_config {
    sampling_ratio = var.log_sampling_ratio
  }
}

resource "google_logging_metric" "task_attempt_failures" {
  project     = var.project_id
  name        = "${var.queue_prefix}-task-attempt-failures"
  description = "Failed Cloud Tasks dispatch attempts on the ${var.queue_prefix}-* queues, by queue."
  filter      = <<-EOT
    resource.type="cloud_tasks_queue"
    resource.labels.queue_id=~"^${var.queue_prefix}-"
    severity>=ERROR
  EOT

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "queue_id"
      value_type  = "STRING"
      description = "Cloud Tasks queue"
    }
  }

  label_extractors = {
    queue_id = "EXTRACT(resource.labels.queue_id)"
  }
}
