# Versions are constrained once, in ../versions.tf (this submodule is only called from there).
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}
