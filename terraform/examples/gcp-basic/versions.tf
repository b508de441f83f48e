terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
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
