"""Attachments: upload checks, metadata cleaning by format, and the encrypted store."""
