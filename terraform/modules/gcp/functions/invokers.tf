# Who may invoke which function (roles/run.invoker on the function's Cloud Run service).
#
#   api              allUsers when api_public (the API checks its own keys), else api_invokers
#   on_object_event  the Eventarc trigger identity only
#   on_stac_event    the Eventarc trigger identity only
#   run_task         the Cloud Tasks OIDC identity only
#   scheduled        the Cloud Scheduler identity only (granted by the scheduler module)

locals {
  api_invoker_members = var.api_public ? ["allUsers"] : var.api_invokers

  # Static keys (the service account emails are only known after apply).
  invoker_bindings = merge(
    {
      "on_object_event/eventarc" = { target = "on_object_event", member = "serviceAccount:${var.events_invoker_email}" }
      "run_task/tasks"           = { target = "run_task", member = "serviceAccount:${var.tasks_invoker_email}" }
      "on_stac_event/eventarc"   = { target = "on_stac_event", member = "serviceAccount:${var.events_invoker_email}" }
    },
    {
      for member in local.api_invoker_members :
      "api/${member}" => { target = "api", member = member }
    },
  )
}

resource "google_cloud_run_v2_service_iam_member" "invokers" {
  #checkov:skip=CKV_GCP_102:Only the `api` function is public, and only when var.api_public is true: it is the HTTP API and enforces its own API keys (DYNASTORE_API_KEYS) on every non-public route.
  for_each = local.invoker_bindings
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this[each.value.target].name
  role     = "roles/run.invoker"
  member   = each.value.member
}
