variable "project_id" {
  description = "Project of the deployment."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the topic and subscription names."
  type        = string
}

variable "labels" {
  description = "Labels applied to the topics and the subscription."
  type        = map(string)
  default     = {}
}

variable "publishers" {
  description = "Principals allowed to publish envelopes to the topic (e.g. serviceAccount:esgf-publisher@P.iam.gserviceaccount.com)."
  type        = list(string)
  default     = []
}
