# Cloud Scheduler jobs that call the `scheduled` function with an OIDC token: cleanup (purge retired
# catalogs and soft-deleted assets past retention) and reconcile (repair drift between bucket and
# database). The JSON body names the action; see functions/gcp/main.py `scheduled`.

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_scheduled" {
  project  = var.project_id
  location = var.region
  name     = var.scheduled_function_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.scheduler_email}"
}

resource "google_cloud_scheduler_job" "this" {
  for_each         = var.jobs
  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  schedule         = each.value.schedule
  time_zone        = var.time_zone
  attempt_deadline = each.value.attempt_deadline

  retry_config {
    retry_count          = each.value.retry_count
    min_backoff_duration = "60s"
    max_backoff_duration = "600s"
  }

  http_target {
    http_method = "POST"
    uri         = var.scheduled_function_url
    body        = base64encode(jsonencode({ action = each.key }))
    headers = {
      "Content-Type" = "application/json"
    }
    oidc_token {
      service_account_email = var.scheduler_email
      audience              = var.scheduled_function_url
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes_scheduled]
}
