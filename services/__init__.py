"""storywire's stages: ingest, clean, enrich, cluster, tail."""
