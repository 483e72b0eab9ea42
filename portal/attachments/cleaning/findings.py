"""The codes cleaning reports: what it found and removed from a file
(CleanResult.removed) and why a file was kept as it was (CleanResult.warning).
The reporter is told both, in words (web/labels.py, CLEANING and
CLEANING_WARNINGS)."""
from __future__ import annotations

EXIF = "exif"
GPS = "gps"
THUMBNAIL = "thumbnail"
XMP = "xmp"
IPTC = "iptc"
ICC_PROFILE = "icc_profile"
COMMENT = "comment"
PNG_TEXT = "png_text"
OTHER_METADATA = "other_metadata"
EXTRA_IMAGES = "extra_images"
ANIMATION_FRAMES = "animation_frames"
OFFICE_PATHS = "office_paths"
PDF_INFO = "pdf_info"
PDF_XMP = "pdf_xmp"
PDF_PAGE_METADATA = "pdf_page_metadata"
PDF_ANNOT_AUTHOR = "pdf_annot_author"
PDF_ATTACHMENTS = "pdf_attachments"
OFFICE_CORE = "office_core"
OFFICE_APP = "office_app"
OFFICE_CUSTOM = "office_custom"
SIGNATURE = "signature"
ODF_META = "odf_meta"
ZIP_TIMESTAMPS = "zip_timestamps"
REMOVED = (EXIF, GPS, THUMBNAIL, XMP, IPTC, ICC_PROFILE, COMMENT, PNG_TEXT, OTHER_METADATA, EXTRA_IMAGES,
           ANIMATION_FRAMES, OFFICE_PATHS, PDF_INFO, PDF_XMP, PDF_PAGE_METADATA, PDF_ANNOT_AUTHOR,
           PDF_ATTACHMENTS, OFFICE_CORE, OFFICE_APP, OFFICE_CUSTOM, SIGNATURE, ODF_META, ZIP_TIMESTAMPS)

UNSUPPORTED_TYPE = "unsupported_type"  # a format we cannot clean
TOO_LARGE_TO_CLEAN = "too_large_to_clean"  # over CLEANABLE_MAX_BYTES or the archive limits
COULD_NOT_PARSE = "could_not_parse"  # malformed, hostile or password-protected
WARNINGS = (UNSUPPORTED_TYPE, TOO_LARGE_TO_CLEAN, COULD_NOT_PARSE)


class Refuse(Exception):
    """Cleaning is not possible; carries the warning code."""

    def __init__(self, warning: str) -> None:
        super().__init__(warning)
        self.warning = warning
