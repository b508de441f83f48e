output "database_name" {
  description = "Firestore database id the functions use."
  value       = local.database
}

output "composite_index_count" {
  description = "How many composite indexes the backend's index file declares (all of them are created)."
  value       = length(local.composite_indexes)
}
