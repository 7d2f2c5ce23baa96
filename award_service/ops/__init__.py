"""Running the service: health, metrics, logs and backups (the top layer: it may
read every feature; no feature imports it)."""
