"""The converted store: Zarr v3 annotations + re-encoded videos + WebDataset clip shards."""
