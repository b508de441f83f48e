# The queue of seed 003 publish envelopes: publishers send each envelope as one message to this
# topic (attribute `catalog_id` picks the catalog, else DYNASTORE_ESGF_CATALOG_ID); an Eventarc
# Pub/Sub trigger (functions module) delivers it to on_stac_event. Messages the function keeps
# failing on (lost races past the retries) go to the dead-letter topic, whose subscription keeps them
# for inspection. Eventarc manages its own subscription, so the dead-letter policy is attached to it
# after apply (output dead_letter_command); see terraform/modules/gcp/README.md.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "envelopes" {
  #checkov:skip=CKV_GCP_83:Carries STAC metadata the publisher makes public in the catalog anyway (no object data); Google-managed encryption.
  project                    = var.project_id
  name                       = "${var.name_prefix}-esgf-events"
  labels                     = var.labels
  message_retention_duration = "604800s" # replayable for 7 days (seek), the dead letters are kept as long
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Holds the envelopes the function failed on (STAC metadata, no object data); Google-managed encryption.
  project = var.project_id
  name    = "${var.name_prefix}-esgf-events-dlq"
  labels  = var.labels
}

# A topic without a subscription drops what it receives: this one keeps the dead letters.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-esgf-events-dlq"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = var.labels
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  expiration_policy {
    ttl = "" # never expires, even when nobody pulls
  }
}

# Pub/Sub forwards dead letters as its service agent.
resource "google_pubsub_topic_iam_member" "agent_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

# Who may publish envelopes (the ESGF publisher's identity); nobody else can.
resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = toset(var.publishers)
  project  = var.project_id
  topic    = google_pubsub_topic.envelopes.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}
