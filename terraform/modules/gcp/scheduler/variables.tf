variable "project_id" {
  description = "Project of the deployment."
  type        = string
}

variable "region" {
  description = "Cloud Scheduler region (the functions' region)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the job names."
  type        = string
}

variable "scheduled_function_name" {
  description = "Name of the `scheduled` function (its Cloud Run service has the same name)."
  type        = string
}

variable "scheduled_function_url" {
  description = "HTTPS URL of the `scheduled` function (target and OIDC audience)."
  type        = string
}

variable "scheduler_email" {
  description = "Identity the jobs sign their OIDC tokens as (gets roles/run.invoker on `scheduled` only)."
  type        = string
}

variable "time_zone" {
  description = "Time zone of the cron expressions."
  type        = string
}

variable "jobs" {
  description = "Jobs calling `scheduled`, keyed by the action they ask for."
  type = map(object({
    schedule         = string
    description      = string
    attempt_deadline = optional(string, "1800s")
    retry_count      = optional(number, 2)
  }))
}
