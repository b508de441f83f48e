# How object changes reach on_object_event.
#
# - Landing bucket: one Eventarc trigger per Cloud Storage event type (finalized, deleted,
#   metadataUpdated, and archived: with object versioning on, deleting or overwriting a live object
#   archives it instead of deleting it), delivered as CloudEvents to the function's Cloud Run service.
# - Per-catalog buckets (created by the service at run time): each gets a Cloud Storage
#   notification to one Pub/Sub topic; one Eventarc Pub/Sub trigger pushes those messages to the
#   same function (CloudEvent type google.cloud.pubsub.topic.v1.messagePublished).
# Eventarc delivers at least once and retries failed deliveries; the handler is idempotent.

locals {
  storage_event_types = {
    finalized       = "google.cloud.storage.object.v1.finalized"
    deleted         = "google.cloud.storage.object.v1.deleted"
    metadataupdated = "google.cloud.storage.object.v1.metadataUpdated"
    archived        = "google.cloud.storage.object.v1.archived"
  }
}

resource "google_eventarc_trigger" "landing" {
  for_each        = local.storage_event_types
  project         = var.project_id
  location        = var.region
  name            = "${var.name_prefix}-landing-${each.key}"
  service_account = var.events_invoker_email
  labels          = var.labels

  matching_criteria {
    attribute = "type"
    value     = each.value
  }
  matching_criteria {
    attribute = "bucket"
    value     = var.landing_bucket
  }

  destination {
    cloud_run_service {
      service = google_cloudfunctions2_function.this["on_object_event"].name
      region  = var.region
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invokers]
}

# Pub/Sub triggers, one per topic: the per-catalog bucket notifications (bucket-per-catalog mode)
# to on_object_event, and the publish envelopes of seed 003 to on_stac_event (esgf_events.tf).
locals {
  pubsub_triggers = merge(
    var.bucket_per_catalog ? { "catalog-buckets" = { topic = var.notification_topic_id, target = "on_object_event" } } : {},
    { "esgf-events" = { topic = var.esgf_topic_id, target = "on_stac_event" } },
  )
}

resource "google_eventarc_trigger" "pubsub" {
  for_each        = local.pubsub_triggers
  project         = var.project_id
  location        = var.region
  name            = "${var.name_prefix}-${each.key}"
  service_account = var.events_invoker_email
  labels          = var.labels

  matching_criteria {
    attribute = "type"
    value     = "google.cloud.pubsub.topic.v1.messagePublished"
  }

  transport {
    pubsub {
      topic = each.value.topic
    }
  }

  destination {
    cloud_run_service {
      service = google_cloudfunctions2_function.this[each.value.target].name
      region  = var.region
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invokers]
}

# The triggers' earlier addresses, so an upgrade keeps them instead of replacing them.
moved {
  from = google_eventarc_trigger.catalog_buckets[0]
  to   = google_eventarc_trigger.pubsub["catalog-buckets"]
}

moved {
  from = google_eventarc_trigger.esgf_events
  to   = google_eventarc_trigger.pubsub["esgf-events"]
}
