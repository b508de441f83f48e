"""The request examples of seed 002, as written (the `<api-url>` part is the test server's /aios)."""

UPLOAD_METADATA = {
    "asset_name": "SampleAsset",
    "asset_version": {"version": "1.0", "tag": "initial"},
    "asset_metadata": {"description": "Sample asset upload"},
    "asset_tags": ["image", "sample"],
}
GET_URI = "SampleAsset:1.0-initial"
UPDATE_BODY = {"asset_metadata": {"description": "Updated asset description"}, "asset_tags": ["updated", "sample"]}
QUERY_PLAIN = {"asset_tags": ["sample"], "asset_metadata": {"type": "image"}}
QUERY_MONGO = {
    "asset_tags": {"$in": ["sample", "image"]},
    "asset_metadata.type": "image",
    "asset_version.version": {"$gte": "1.0"},
}
EXTERNAL_ASSET = {
    "asset_name": "Sample Asset",
    "asset_version": {"version": "1.0", "tag": "initial"},
    "asset_metadata": {"description": "Sample asset for testing"},
    "asset_tags": ["test", "sample"],
}
REGISTRY_CREATE = {
    "asset_registry_name": "ResNet Models registry",
    "asset_registry_metadata": {"framework": "PyTorch", "version": "1.0", "author": "OpenAI", "license": "Apache-2.0"},
    "asset_registry_tags": ["image-classification", "deep-learning", "pytorch"],
    "asset_registry_public_url": "https://example.com/models/resnet-models-registry",
}
REGISTRY_ID = "123e4567-e89b-12d3-a456-426614174000"
# The seed's PUT example has a stray `models` after "TensorFlow" (not JSON); sent as it evidently means.
REGISTRY_UPDATE = {
    "asset_registry_metadata": {"framework": "TensorFlow", "version": "2.0"},
    "asset_registry_tags": ["neural-network", "tensorflow"],
}
REGISTRY_QUERY = {
    "$and": [
        {"asset_registry_tags": {"$in": ["deep-learning"]}},
        {"asset_registry_metadata.framework": "PyTorch"},
    ]
}
