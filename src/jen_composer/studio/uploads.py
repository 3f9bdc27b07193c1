"""Read one uploaded file from a multipart request without ever holding more than the limit.

Starlette's form parser spools the whole request (to a temporary file past 1 MB) before anyone
can look at its size, and a chunked upload has no Content-Length to refuse it by. So the body is
read here chunk by chunk and the request is refused (HTTP 413) as soon as it passes the limit; only
then is the multipart parsed, from memory.
"""

from __future__ import annotations

from fastapi import Request

from jen_composer.composition.importer import ALLOWED_SUFFIXES, sanitize_filename
from jen_composer.core.errors import JenComposerError

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file itself


class PayloadTooLarge(JenComposerError):
    """An upload above the configured limit (HTTP 413)."""


async def read_limited(request: Request, limit: int, limit_mb: float) -> bytes:
    """The request body, refused with PayloadTooLarge as soon as it passes ``limit`` bytes."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise PayloadTooLarge(f"upload too large ({declared / 2**20:.1f} MB; limit {limit_mb} MB)")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"upload too large (more than {limit_mb} MB)")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, limit_mb: float) -> tuple[str, bytes]:
    """(safe file name, bytes) of the form field ``file``; size, type and shape errors are one line."""
    limit = int(limit_mb * 1024 * 1024)
    body = await read_limited(request, limit + MULTIPART_OVERHEAD, limit_mb)
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=2)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise JenComposerError("no file in the upload (form field 'file')")
        name = sanitize_filename(upload.filename or "upload")
        data = await upload.read(limit + 1)
    finally:
        await form.close()
    if len(data) > limit:
        raise PayloadTooLarge(f"{name}: upload too large (limit {limit_mb} MB)")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise JenComposerError(f"{name}: unsupported file type (use {', '.join(ALLOWED_SUFFIXES)})")
    return name, data
