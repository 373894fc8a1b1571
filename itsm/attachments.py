"""Upload checks and safe downloads for ticket attachments (SPEC §2, ASVS V5)."""

import mimetypes
import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

MAX_NAME_LENGTH = 150
# Types a browser would render or run; always served as a plain download.
ACTIVE_CONTENT_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-sh",
    "application/x-msdownload",
}
_UNSAFE = re.compile(r"[^\w.\- ()+,@\[\]]", re.UNICODE)


TOO_LARGE_ON_FIELD = _(
    "%(field)s: %(name)s is too large (%(size)s): each file can be up to %(limit)s."
)


class UploadTooLarge(Exception):
    """The upload exceeds ``ATTACHMENT_MAX_BYTES``: HTTP 413 from the API and from every HTML
    form (``itsm.forms.form_status``), which shows ``for_field`` on the file field."""

    code = "too_large"
    status_code = 413

    def __init__(self, limit: int, *, name: str = "", size: int = 0):
        self.limit, self.name, self.size = limit, name, size
        super().__init__(
            _("The file is larger than the %(limit)s limit.") % {"limit": filesizeformat(limit)}
        )

    def for_field(self, label) -> str:
        """The refusal as a form shows it: the field, the file, its size and the limit."""
        return TOO_LARGE_ON_FIELD % {
            "field": label,
            "name": self.name or _("the file"),
            "size": filesizeformat(self.size),
            "limit": filesizeformat(self.limit),
        }


class UploadRefused(ValueError):
    """The upload is unusable (empty file...)."""


def sanitize_filename(name: str) -> str:
    """A display name that is safe in headers, paths and HTML.

    Drops any directory part (POSIX or Windows), control and bidirectional-override characters,
    leading dots; replaces other unsafe characters by ``_``; keeps the extension when the name is
    shortened.
    """
    name = unicodedata.normalize("NFKC", name or "")
    name = PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"_{2,}", "_", name)
    if not name or set(name) <= {"_", "."}:
        name = "file"
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        keep = MAX_NAME_LENGTH - len(ext) - (1 if ext else 0)
        name = (stem if ext else name)[:keep].rstrip(" .") + (f".{ext}" if ext else "")
    return name


def guess_content_type(name: str) -> str:
    """The content type from the sanitised name (a client's declared type is not trusted)."""
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def check_upload(upload) -> tuple[str, str]:
    """Validate an uploaded file; return its safe name and content type."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise UploadTooLarge(limit, name=upload.name, size=upload.size)
    if upload.size == 0:
        raise UploadRefused(_("The file is empty."))
    name = sanitize_filename(upload.name)
    return name, guess_content_type(name)


def download_response(attachment) -> FileResponse:
    """Always a download (``Content-Disposition: attachment``), never rendered inline."""
    content_type = attachment.content_type
    if content_type in ACTIVE_CONTENT_TYPES or content_type.startswith("text/"):
        content_type = "application/octet-stream"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
