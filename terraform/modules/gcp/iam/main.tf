# Identities of the deployment and every role they hold. One service account per function, plus
# the identities Eventarc, Cloud Tasks, Cloud Scheduler and Cloud Build act as. The table in
# `local.runtime` is the whole policy of the five functions; terraform/modules/gcp/README.md maps
# each grant to the code path that needs it.

locals {
  role_prefix = replace(var.name_prefix, "-", "_")

  accounts = {
    api             = { id = "${var.name_prefix}-api", title = "Dynastore api function" }
    on_object_event = { id = "${var.name_prefix}-indexer", title = "Dynastore on_object_event function" }
    run_task        = { id = "${var.name_prefix}-worker", title = "Dynastore run_task function" }
    scheduled       = { id = "${var.name_prefix}-scheduled", title = "Dynastore scheduled function" }
    on_stac_event   = { id = "${var.name_prefix}-esgf", title = "Dynastore on_stac_event function" }
    tasks_oidc      = { id = "${var.name_prefix}-tasks-oidc", title = "Dynastore Cloud Tasks -> run_task caller" }
    eventarc        = { id = "${var.name_prefix}-eventarc", title = "Dynastore Eventarc -> event functions caller" }
    scheduler       = { id = "${var.name_prefix}-scheduler", title = "Dynastore Cloud Scheduler -> scheduled caller" }
    build           = { id = "${var.name_prefix}-build", title = "Dynastore Cloud Functions builder" }
  }

  # What each function may do (terraform/modules/gcp/README.md maps each to its code path).
  #   landing          role on the landing bucket's objects
  #   catalog_buckets  role on the objects of per-catalog buckets (bucket-per-catalog mode only)
  #   enqueue          create tasks (CloudTasksQueue.enqueue), acting as tasks_oidc; enqueue also
  #                    creates a queue that does not exist yet
  #   provision        CatalogService.create / IndexingService auto-provisioning ->
  #                    GcpProvisioner.provision_catalog: find or create the catalog's queue (and, in
  #                    bucket mode, its bucket and notification)
  #   deprovision      LifecycleService purge -> GcpProvisioner.deprovision_catalog: delete the
  #                    catalog's queue (and, in bucket mode, its notification and bucket)
  #   sign_urls        AssetService upload/download URLs: GcsBlobStore.signed_url signs through IAM
  #                    signBlob as the function's own identity
  #   health           GET /health: CloudTasksQueue.health lists queues, GcsBlobStore.health reads
  #                    the landing bucket
  runtime = {
    api = {
      landing = "roles/storage.objectUser", catalog_buckets = "roles/storage.objectUser"
      enqueue = true, provision = true, deprovision = false, sign_urls = true, health = true
    }
    on_object_event = {
      landing = "roles/storage.objectViewer", catalog_buckets = "roles/storage.objectViewer"
      enqueue = false, provision = true, deprovision = false, sign_urls = false, health = false
    }
    run_task = {
      landing = "roles/storage.objectUser", catalog_buckets = "roles/storage.objectUser"
      enqueue = true, provision = false, deprovision = false, sign_urls = false, health = false
    }
    scheduled = {
      landing = "roles/storage.objectUser", catalog_buckets = "roles/storage.objectUser"
      enqueue = false, provision = true, deprovision = true, sign_urls = false, health = false
    }
    # Envelopes write items and asset records; a hard delete (DELETE envelope) removes the files.
    on_stac_event = {
      landing = "roles/storage.objectUser", catalog_buckets = "roles/storage.objectUser"
      enqueue = false, provision = false, deprovision = false, sign_urls = false, health = false
    }
  }

  catalog_bucket_condition = "resource.name.startsWith(\"projects/_/buckets/${var.catalog_bucket_prefix}\")"
  database_condition       = "resource.name == \"projects/${var.project_id}/databases/${var.database_name}\""

  enqueuers    = [for name, grant in local.runtime : name if grant.enqueue]
  provisioners = [for name, grant in local.runtime : name if grant.provision]
  removers     = [for name, grant in local.runtime : name if grant.deprovision]
  signers      = [for name, grant in local.runtime : name if grant.sign_urls]
  health       = [for name, grant in local.runtime : name if grant.health]
}

resource "google_service_account" "this" {
  for_each     = local.accounts
  project      = var.project_id
  account_id   = each.value.id
  display_name = each.value.title
}

# --- Firestore: read/write documents of this deployment's database only --------------------------

resource "google_project_iam_member" "firestore" {
  for_each = local.runtime
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = google_service_account.this[each.key].member

  condition {
    title       = "${var.name_prefix}-firestore-database"
    description = "Only the ${var.database_name} database."
    expression  = local.database_condition
  }
}

# --- landing bucket ------------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "landing" {
  for_each = local.runtime
  bucket   = var.landing_bucket
  role     = each.value.landing
  member   = google_service_account.this[each.key].member
}

# GET /health checks the landing bucket exists (storage.buckets.get).
resource "google_storage_bucket_iam_member" "landing_bucket_reader" {
  for_each = toset(local.health)
  bucket   = var.landing_bucket
  role     = "roles/storage.legacyBucketReader"
  member   = google_service_account.this[each.key].member
}

# --- Cloud Tasks: queues cannot be scoped by IAM condition, so custom roles hold the exact verbs ---

resource "google_project_iam_custom_role" "task_enqueuer" {
  project     = var.project_id
  role_id     = "${local.role_prefix}_task_enqueuer"
  title       = "Dynastore task enqueuer"
  description = "Create tasks; create their queue when it does not exist yet (CloudTasksQueue.enqueue)."
  permissions = ["cloudtasks.tasks.create", "cloudtasks.queues.create"]
}

resource "google_project_iam_custom_role" "catalog_provisioner" {
  project     = var.project_id
  role_id     = "${local.role_prefix}_catalog_provisioner"
  title       = "Dynastore catalog provisioner"
  description = "Find or create the task queue of a new catalog (CloudTasksQueue.ensure_queue)."
  permissions = ["cloudtasks.queues.get", "cloudtasks.queues.create"]
}

resource "google_project_iam_custom_role" "catalog_remover" {
  project     = var.project_id
  role_id     = "${local.role_prefix}_catalog_remover"
  title       = "Dynastore catalog remover"
  description = "Delete the task queue of a purged catalog (CloudTasksQueue.delete_queue)."
  permissions = ["cloudtasks.queues.delete"]
}

resource "google_project_iam_custom_role" "queue_health" {
  project     = var.project_id
  role_id     = "${local.role_prefix}_queue_health"
  title       = "Dynastore queue health check"
  description = "List queues to prove Cloud Tasks answers (CloudTasksQueue.health, GET /health)."
  permissions = ["cloudtasks.queues.list"]
}

resource "google_project_iam_member" "task_enqueuer" {
  for_each = toset(local.enqueuers)
  project  = var.project_id
  role     = google_project_iam_custom_role.task_enqueuer.id
  member   = google_service_account.this[each.key].member
}

resource "google_project_iam_member" "catalog_provisioner" {
  for_each = toset(local.provisioners)
  project  = var.project_id
  role     = google_project_iam_custom_role.catalog_provisioner.id
  member   = google_service_account.this[each.key].member
}

resource "google_project_iam_member" "queue_health" {
  for_each = toset(local.health)
  project  = var.project_id
  role     = google_project_iam_custom_role.queue_health.id
  member   = google_service_account.this[each.key].member
}

resource "google_project_iam_member" "catalog_remover" {
  for_each = toset(local.removers)
  project  = var.project_id
  role     = google_project_iam_custom_role.catalog_remover.id
  member   = google_service_account.this[each.key].member
}

# Tasks carry an OIDC token of tasks_oidc: whoever enqueues must be able to act as it.
resource "google_service_account_iam_member" "enqueuers_act_as_tasks_oidc" {
  for_each           = toset(local.enqueuers)
  service_account_id = google_service_account.this["tasks_oidc"].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.this[each.key].member
}

# --- signed URLs (no key files: the function signs through the IAM signBlob API as itself) -------

resource "google_service_account_iam_member" "sign_own_urls" {
  for_each           = toset(local.signers)
  service_account_id = google_service_account.this[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.this[each.key].member
}

# --- bucket-per-catalog mode: buckets the service creates at run time ----------------------------

resource "google_project_iam_custom_role" "catalog_bucket_creator" {
  count       = var.bucket_per_catalog ? 1 : 0
  project     = var.project_id
  role_id     = "${local.role_prefix}_catalog_bucket_creator"
  title       = "Dynastore catalog bucket creator"
  description = "Create a catalog's bucket (and nothing else at project level)."
  permissions = ["storage.buckets.create"]
}

resource "google_project_iam_custom_role" "catalog_bucket_manager" {
  count       = var.bucket_per_catalog ? 1 : 0
  project     = var.project_id
  role_id     = "${local.role_prefix}_catalog_bucket_manager"
  title       = "Dynastore catalog bucket manager"
  description = "Configure a catalog bucket (notifications, settings); granted on the catalog bucket prefix only."
  permissions = ["storage.buckets.get", "storage.buckets.update"]
}

resource "google_project_iam_custom_role" "catalog_bucket_remover" {
  count       = var.bucket_per_catalog ? 1 : 0
  project     = var.project_id
  role_id     = "${local.role_prefix}_catalog_bucket_remover"
  title       = "Dynastore catalog bucket remover"
  description = "Delete a purged catalog's bucket; granted on the catalog bucket prefix only."
  permissions = ["storage.buckets.get", "storage.buckets.update", "storage.buckets.delete"]
}

resource "google_project_iam_member" "catalog_bucket_creator" {
  for_each = toset(var.bucket_per_catalog ? local.provisioners : [])
  project  = var.project_id
  role     = google_project_iam_custom_role.catalog_bucket_creator[0].id
  member   = google_service_account.this[each.key].member
}

resource "google_project_iam_member" "catalog_bucket_manager" {
  for_each = toset(var.bucket_per_catalog ? local.provisioners : [])
  project  = var.project_id
  role     = google_project_iam_custom_role.catalog_bucket_manager[0].id
  member   = google_service_account.this[each.key].member

  condition {
    title       = "${var.name_prefix}-catalog-buckets"
    description = "Only buckets named ${var.catalog_bucket_prefix}*."
    expression  = local.catalog_bucket_condition
  }
}

resource "google_project_iam_member" "catalog_bucket_remover" {
  for_each = toset(var.bucket_per_catalog ? local.removers : [])
  project  = var.project_id
  role     = google_project_iam_custom_role.catalog_bucket_remover[0].id
  member   = google_service_account.this[each.key].member

  condition {
    title       = "${var.name_prefix}-catalog-buckets"
    description = "Only buckets named ${var.catalog_bucket_prefix}*."
    expression  = local.catalog_bucket_condition
  }
}

resource "google_project_iam_member" "catalog_bucket_objects" {
  for_each = var.bucket_per_catalog ? local.runtime : {}
  project  = var.project_id
  role     = each.value.catalog_buckets
  member   = google_service_account.this[each.key].member

  condition {
    title       = "${var.name_prefix}-catalog-bucket-objects"
    description = "Only objects of buckets named ${var.catalog_bucket_prefix}*."
    expression  = local.catalog_bucket_condition
  }
}

# --- event delivery ------------------------------------------------------------------------------

# Eventarc: the trigger identity receives events (it is granted run.invoker on on_object_event by
# the functions module).
resource "google_project_iam_member" "eventarc_receives_events" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.this["eventarc"].member
}

# Eventarc pushes through Pub/Sub with an OIDC token of the trigger identity; projects created
# before April 2021 need the Pub/Sub service agent to be allowed to mint it (scoped to that one
# account, harmless elsewhere).
data "google_project" "this" {
  project_id = var.project_id
}

resource "google_service_account_iam_member" "pubsub_agent_signs_for_eventarc" {
  service_account_id = google_service_account.this["eventarc"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Eventarc's Cloud Storage triggers publish through Pub/Sub as the Cloud Storage service agent.
resource "google_project_iam_member" "gcs_agent_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.gcs_service_agent}"
}

# --- build ---------------------------------------------------------------------------------------

resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.this["build"].member
}

resource "google_project_iam_member" "build_reads_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.this["build"].member

  condition {
    title       = "${var.name_prefix}-function-sources"
    description = "The bundle bucket and the Cloud Functions staging buckets."
    expression = join(" || ", [
      "resource.name == \"projects/_/buckets/${var.artifacts_bucket}\"",
      "resource.name.startsWith(\"projects/_/buckets/${var.artifacts_bucket}/\")",
      "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-\")",
    ])
  }
}
