output "job_names" {
  description = "Cloud Scheduler job names, by action."
  value       = { for action, job in google_cloud_scheduler_job.this : action => job.name }
}
