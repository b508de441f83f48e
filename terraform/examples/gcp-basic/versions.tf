# The module constrains Terraform and its providers (terraform/modules/gcp/versions.tf); the
# example declares only the provider it configures below.
terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }

  # Keep the state somewhere shared and private in real use, for example:
  # backend "gcs" {
  #   bucket = "my-terraform-state"
  #   prefix = "dynastore"
  # }
}

# Credentials come from the environment (`gcloud auth application-default login`, a workload
# identity, or GOOGLE_APPLICATION_CREDENTIALS); nothing is configured here.
provider "google" {
  project = var.project_id
  region  = var.region
}
