# A complete Dynastore Assets deployment with the defaults of terraform/modules/aws.
#
#   python scripts/package_functions.py --cloud aws --with-dependencies   # dist/functions/dynastore-aws{,-deps}.zip
#   cd terraform/examples/aws-basic
#   terraform init
#   terraform apply -var region=eu-west-1
#
# See the README section "Deploy to AWS".

module "dynastore" {
  source = "../../modules/aws"

  region             = var.region
  name_prefix        = var.name_prefix
  function_bundle    = coalesce(var.function_bundle, "${path.root}/../../../dist/functions/dynastore-aws.zip")
  dependencies_layer = coalesce(var.dependencies_layer, "${path.root}/../../../dist/functions/dynastore-aws-deps.zip")
  public_read        = var.public_read
  teardown           = var.teardown

  tags = {
    app = "dynastore"
  }
}
