# Dynastore Assets on Google Cloud: one landing bucket (or one bucket per catalog), Firestore with
# the backend's indexes, Cloud Tasks, five Cloud Functions (gen2), Eventarc triggers, the publish-envelope topic, Cloud
# Scheduler jobs and least-privilege identities. Each concern is a submodule; this module wires
# their names together so every environment variable matches what the code reads.

locals {
  landing_bucket   = coalesce(var.landing_bucket_name, "${var.project_id}-${var.name_prefix}-landing")
  artifacts_bucket = "${var.project_id}-${var.name_prefix}-functions"
  queue_prefix     = coalesce(var.queue_prefix, var.name_prefix)
  indexes_file     = coalesce(var.firestore_indexes_file, "${path.module}/../../../shared/dynastore/backends/gcp/firestore_indexes.json")
  # Per-catalog buckets are named <landing bucket>-<catalog id> by the gcp backend's provisioner.
  catalog_bucket_prefix = "${local.landing_bucket}-"
  # The logical queue of jobs whose catalog has no queue of its own (DEFAULT_QUEUE in
  # shared/dynastore/services/tasks.py); its Cloud Tasks id is <queue_prefix>-<name>.
  default_task_queue = "dynastore-tasks"

  apis = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]

  function_defaults = {
    api             = { memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 20, concurrency = 40, ingress = "ALLOW_ALL" }
    on_object_event = { memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 20, concurrency = 8, ingress = "ALLOW_INTERNAL_ONLY" }
    run_task        = { memory = "1Gi", cpu = "1", timeout_seconds = 1800, max_instances = 10, concurrency = 1, ingress = "ALLOW_ALL" }
    scheduled       = { memory = "512Mi", cpu = "1", timeout_seconds = 1800, max_instances = 2, concurrency = 1, ingress = "ALLOW_ALL" }
    on_stac_event   = { memory = "512Mi", cpu = "1", timeout_seconds = 300, max_instances = 10, concurrency = 8, ingress = "ALLOW_INTERNAL_ONLY" }
  }
  function_settings = {
    for target, defaults in local.function_defaults :
    target => merge(defaults, {
      for key, value in try(var.function_overrides[target], {}) : key => value if value != null
    })
  }
}

resource "google_project_service" "this" {
  for_each           = toset(var.enable_apis ? local.apis : [])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "storage" {
  source = "./storage"

  project_id                        = var.project_id
  location                          = var.region
  name_prefix                       = var.name_prefix
  landing_bucket_name               = local.landing_bucket
  artifacts_bucket_name             = local.artifacts_bucket
  access_log_bucket                 = var.access_log_bucket
  versioning                        = var.bucket_versioning
  soft_delete_retention_days        = var.soft_delete_retention_days
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  noncurrent_versions_kept          = var.noncurrent_versions_kept
  nearline_after_days               = var.nearline_after_days
  force_destroy                     = var.force_destroy
  bucket_per_catalog                = var.bucket_per_catalog
  labels                            = var.labels

  depends_on = [google_project_service.this]
}

module "database" {
  source = "./database"

  project_id             = var.project_id
  database_name          = var.firestore_database
  location_id            = coalesce(var.firestore_location, var.region)
  create_database        = var.create_firestore_database
  deletion_protection    = var.firestore_deletion_protection
  point_in_time_recovery = var.firestore_point_in_time_recovery
  indexes_file           = local.indexes_file
  collection_prefix      = var.collection_prefix

  depends_on = [google_project_service.this]
}

module "queues" {
  source = "./queues"

  project_id   = var.project_id
  region       = var.region
  queue_prefix = local.queue_prefix
  queues = {
    (local.default_task_queue) = merge(var.task_queue, { max_attempts = var.task_max_attempts })
  }

  depends_on = [google_project_service.this]
}

# Seed 003 publish envelopes: the topic publishers send to (and its dead-letter topic).
module "esgf_events" {
  source = "./esgf_events"

  project_id  = var.project_id
  name_prefix = var.name_prefix
  labels      = var.labels
  publishers  = var.esgf_publishers

  depends_on = [google_project_service.this]
}

module "iam" {
  source = "./iam"

  project_id            = var.project_id
  name_prefix           = var.name_prefix
  landing_bucket        = module.storage.landing_bucket
  artifacts_bucket      = module.storage.artifacts_bucket
  database_name         = module.database.database_name
  bucket_per_catalog    = var.bucket_per_catalog
  catalog_bucket_prefix = local.catalog_bucket_prefix
  gcs_service_agent     = module.storage.gcs_service_agent

  depends_on = [google_project_service.this]
}

module "functions" {
  source = "./functions"

  project_id = var.project_id
  region     = var.region
  labels     = var.labels

  name_prefix      = var.name_prefix
  source_archive   = var.function_source_archive
  artifacts_bucket = module.storage.artifacts_bucket
  runtime          = var.runtime

  landing_bucket        = module.storage.landing_bucket
  database_name         = module.database.database_name
  collection_prefix     = var.collection_prefix
  queue_prefix          = local.queue_prefix
  bucket_per_catalog    = var.bucket_per_catalog
  notification_topic    = module.storage.catalog_notification_topic
  notification_topic_id = module.storage.catalog_notification_topic_id

  service_accounts            = module.iam.function_service_accounts
  tasks_invoker_email         = module.iam.identities["tasks_oidc"].email
  events_invoker_email        = module.iam.identities["eventarc"].email
  build_service_account_id    = module.iam.identities["build"].id
  build_service_account_email = module.iam.identities["build"].email

  api_public         = var.api_public
  api_invokers       = var.api_invokers
  api_keys_secret_id = var.api_keys_secret_id
  public_read        = var.public_read
  base_url           = var.base_url
  retention_days     = var.retention_days
  task_max_attempts  = var.task_max_attempts
  max_upload_bytes   = var.max_upload_bytes
  log_level          = var.log_level
  function_settings  = local.function_settings

  esgf_topic_id             = module.esgf_events.topic_id
  esgf_dead_letter_topic_id = module.esgf_events.dead_letter_topic_id
  esgf_catalog_id           = var.esgf_catalog_id
  pubsub_agent              = module.esgf_events.pubsub_agent

  # IAM first: a function whose identity cannot yet read Firestore fails its first requests, and
  # Eventarc refuses storage triggers until the Cloud Storage agent may publish.
  depends_on = [module.iam, module.database, module.queues]
}

module "scheduler" {
  source = "./scheduler"

  project_id              = var.project_id
  region                  = var.region
  name_prefix             = var.name_prefix
  scheduled_function_name = module.functions.function_names["scheduled"]
  scheduled_function_url  = module.functions.function_urls["scheduled"]
  scheduler_email         = module.iam.identities["scheduler"].email
  time_zone               = var.time_zone
  jobs = {
    cleanup = {
      schedule    = var.cleanup_schedule
      description = "Purge retired catalogs and soft-deleted assets older than ${var.retention_days} days."
    }
    reconcile = {
      schedule    = var.reconcile_schedule
      description = "Compare buckets and Firestore and repair drift (missed events)."
    }
  }

  depends_on = [google_project_service.this]
}
