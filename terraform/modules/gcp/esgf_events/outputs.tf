output "topic" {
  description = "Short name of the topic publishers send envelopes to."
  value       = google_pubsub_topic.envelopes.name
}

output "topic_id" {
  description = "Full id (projects/P/topics/T) of that topic (the Eventarc trigger's transport)."
  value       = google_pubsub_topic.envelopes.id
}

output "dead_letter_topic_id" {
  description = "Full id of the dead-letter topic."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription" {
  description = "Subscription holding the dead letters (pull it to inspect them)."
  value       = google_pubsub_subscription.dead_letter.name
}

output "pubsub_agent" {
  description = "The project's Pub/Sub service agent (member form): it forwards dead letters."
  value       = local.pubsub_agent
}
