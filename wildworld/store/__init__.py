"""The converted store: Zarr v3 annotations + re-encoded videos + WebDataset clip shards.

    store = wildworld.store.open_store("out/store")            # or "s3://bucket/store"
    store.manifest.samples, store.layout, store.rows("000000", 0, 16)
    reader = wildworld.store.open_reader("memory://store")     # the bytes of any member

``layout`` names every file of a store, ``manifest`` reads and writes its index
(:class:`StoreManifest`), ``backends`` reads its bytes wherever it lies (:class:`StoreReader`,
local or fsspec), ``reader`` opens it for use (:class:`Store`); ``convert`` writes one (see
docs/store.md and docs/architecture.md).
"""

from .backends import FsspecStoreReader, LocalStoreReader, StoreReader, open_reader
from .manifest import ShardRecord, SlotEntity, StoreManifest, StoreSample, read_manifest
from .options import ConvertOptions
from .reader import Store, open_store

__all__ = [
    "ConvertOptions",
    "FsspecStoreReader",
    "LocalStoreReader",
    "ShardRecord",
    "SlotEntity",
    "Store",
    "StoreManifest",
    "StoreReader",
    "StoreSample",
    "open_reader",
    "open_store",
    "read_manifest",
]
