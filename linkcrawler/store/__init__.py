"""Storage: the MongoDB connection (real or embedded), indexes and the batched writer."""

from linkcrawler.store.connection import Store, mask_uri, open_store
from linkcrawler.store.writer import BulkWriter, WriteOp

__all__ = ["BulkWriter", "Store", "WriteOp", "mask_uri", "open_store"]
