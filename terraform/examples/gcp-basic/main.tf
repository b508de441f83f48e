# A complete Dynastore Assets deployment with the defaults of terraform/modules/gcp.
#
#   python scripts/package_functions.py          # builds dist/functions/dynastore-gcp.zip
#   cd terraform/examples/gcp-basic
#   terraform init
#   terraform apply -var project_id=my-project
#
# See the README section "Deploy to Google Cloud".

module "dynastore" {
  source = "../../modules/gcp"

  project_id              = var.project_id
  region                  = var.region
  name_prefix             = var.name_prefix
  function_source_archive = coalesce(var.function_source_archive, "${path.root}/../../../dist/functions/dynastore-gcp.zip")

  api_public         = var.api_public
  api_keys_secret_id = var.api_keys_secret_id
  public_read        = var.public_read
  bucket_per_catalog = var.bucket_per_catalog

  firestore_database            = var.firestore_database
  create_firestore_database     = var.create_firestore_database
  firestore_deletion_protection = !var.teardown
  force_destroy                 = var.teardown

  labels = {
    app = "dynastore"
  }
}
