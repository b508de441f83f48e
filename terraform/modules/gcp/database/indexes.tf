# What the gcp backend declares, read from its one index file: nothing here is copied by hand.
#
# This file holds locals only (no resources, no providers) so the test suite can evaluate it with
# `terraform console` and compare the result with the file itself (tests/terraform).

locals {
  index_file      = jsondecode(file(var.indexes_file))
  index_file_keys = keys(local.index_file)

  # One entry per composite index, keyed by its content so reordering the file changes nothing.
  composite_indexes = {
    for index in lookup(local.index_file, "indexes", []) :
    join("|", concat(
      [index.collectionGroup, lookup(index, "queryScope", "COLLECTION"), lookup(index, "apiScope", "ANY_API")],
      [for field in index.fields : "${field.fieldPath}:${lookup(field, "order", lookup(field, "arrayConfig", ""))}"],
      )) => {
      collection  = "${var.collection_prefix}${index.collectionGroup}"
      query_scope = lookup(index, "queryScope", "COLLECTION")
      api_scope   = lookup(index, "apiScope", "ANY_API")
      fields = [
        for field in index.fields : {
          field_path   = field.fieldPath
          order        = lookup(field, "order", null)
          array_config = lookup(field, "arrayConfig", null)
        }
      ]
    }
  }

  # Single-field overrides: TTL policies and exemptions from automatic indexing.
  field_overrides = {
    for override in lookup(local.index_file, "fieldOverrides", []) :
    "${override.collectionGroup}/${override.fieldPath}" => {
      collection = "${var.collection_prefix}${override.collectionGroup}"
      field      = override.fieldPath
      ttl        = lookup(override, "ttl", false)
      # null: keep Firestore's automatic single-field indexes; a list (possibly empty): exactly these.
      indexes = can(override.indexes) ? [
        for index in override.indexes : {
          query_scope  = lookup(index, "queryScope", "COLLECTION")
          order        = lookup(index, "order", null)
          array_config = lookup(index, "arrayConfig", null)
        }
      ] : null
    }
  }
}
