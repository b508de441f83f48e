# How publish envelopes reach on_stac_event: one Eventarc Pub/Sub trigger on the envelope topic
# (module esgf_events), google_eventarc_trigger.pubsub["esgf-events"] in triggers.tf. Eventarc
# creates and owns the push subscription; Pub/Sub retries a failed delivery (the function raises on
# a lost race) with backoff, and the function acks what can never apply. The dead-letter policy
# cannot be set on that subscription from Terraform (the provider does not expose it:
# hashicorp/terraform-provider-google#17697), so the module grants what it needs here and prints
# the one gcloud command that attaches it (output esgf_dead_letter_command).

# Forwarding to a dead-letter topic needs the Pub/Sub agent to subscribe to the source subscription.
resource "google_pubsub_subscription_iam_member" "agent_forwards_dead_letters" {
  project      = var.project_id
  subscription = google_eventarc_trigger.pubsub["esgf-events"].transport[0].pubsub[0].subscription
  role         = "roles/pubsub.subscriber"
  member       = var.pubsub_agent
}

locals {
  esgf_dead_letter_command = join(" ", [
    "gcloud pubsub subscriptions update ${google_eventarc_trigger.pubsub["esgf-events"].transport[0].pubsub[0].subscription}",
    "--project=${var.project_id} --dead-letter-topic=${var.esgf_dead_letter_topic_id}",
    "--max-delivery-attempts=${max(5, var.task_max_attempts)} --min-retry-delay=10s --max-retry-delay=600s",
  ])
}
