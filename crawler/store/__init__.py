"""Article storage in MongoDB: one client per process, fingerprints, documents, batched
deduplicating writes, the spool."""
