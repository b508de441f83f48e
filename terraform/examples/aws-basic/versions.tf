# The module constrains Terraform and its providers (terraform/modules/aws/versions.tf); the
# example declares only the provider it configures below.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }

  # Keep the state somewhere shared and private in real use, for example:
  # backend "s3" {
  #   bucket = "my-terraform-state"
  #   key    = "dynastore/terraform.tfstate"
  # }
}

# Credentials come from the environment (AWS_PROFILE, SSO, an instance or CI role); nothing is configured here.
provider "aws" {
  region = var.region
}
