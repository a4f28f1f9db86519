"""Article storage in MongoDB: fingerprints, documents, batched deduplicating writes, the spool."""
