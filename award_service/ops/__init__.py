"""Operations: health, metrics, logs, backups."""
