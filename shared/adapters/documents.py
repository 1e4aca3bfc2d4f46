"""The documents bucket: read (streamed, size-limited), write and share objects.

Objects are encrypted by the bucket's default (SSE-KMS with the stack's key), so writers pass no
encryption settings and readers need kms:Decrypt on that key. Shared links are presigned GETs
(SigV4, which SSE-KMS objects require) that expire after a few minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from shared.adapters import aws
from shared.config import settings

READ_BLOCK = 1024 * 1024
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}


class NoSuchObjectError(LookupError):
    """The key names no object (it was deleted, or never written)."""


class ObjectAccessDeniedError(PermissionError):
    """S3 refused the read. A missing key answers this too when the caller may not list the
    bucket (S3 then hides whether the key exists)."""


class ObjectTooLargeError(ValueError):
    def __init__(self, key: str, size: int, limit: int, version: str) -> None:
        super().__init__(f"{key} is {size} bytes or more; the limit is {limit}")
        self.size, self.limit, self.version = size, limit, version


@dataclass(frozen=True)
class StoredObject:
    key: str
    content: bytes
    version: str  # the version id, else the ETag (unversioned buckets)
    metadata: dict[str, str] = field(default_factory=dict)


def bucket() -> str:
    name = settings().documents_bucket
    if not name:
        raise RuntimeError("DOCUMENTS_BUCKET is not set")
    return name


def read(key: str, *, limit: int) -> StoredObject:
    """The object's bytes, read in blocks; more than ``limit`` bytes raise before all is read."""
    try:
        answer = aws.client("s3").get_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in _NOT_FOUND:
            raise NoSuchObjectError(key) from None
        if code in ("AccessDenied", "403"):
            raise ObjectAccessDeniedError(key) from None
        raise
    version = answer.get("VersionId") or answer.get("ETag", "").strip('"')
    body = answer["Body"]
    try:
        if answer.get("ContentLength", 0) > limit:
            raise ObjectTooLargeError(key, answer["ContentLength"], limit, version)
        blocks: list[bytes] = []
        size = 0
        while block := body.read(READ_BLOCK):
            size += len(block)
            if size > limit:
                raise ObjectTooLargeError(key, size, limit, version)
            blocks.append(block)
    finally:
        body.close()
    return StoredObject(
        key=key, content=b"".join(blocks), version=version, metadata=answer.get("Metadata", {})
    )


def write(
    key: str, content: bytes, *, content_type: str, metadata: dict[str, str] | None = None
) -> None:
    request: dict[str, Any] = {
        "Bucket": bucket(),
        "Key": key,
        "Body": content,
        "ContentType": content_type,
    }
    if metadata:
        request["Metadata"] = metadata
    aws.client("s3").put_object(**request)


def exists(key: str) -> bool:
    """Whether an object is stored under ``key`` (a HEAD: no body is read)."""
    try:
        aws.client("s3").head_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in _NOT_FOUND:
            return False
        raise
    return True


def share(key: str, *, seconds: int = 300, filename: str | None = None) -> str:
    """A presigned GET of ``key`` valid for ``seconds`` (anyone holding it may download)."""
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    signer = _signer(aws.session())
    url: str = signer.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
    return url


@cache
def _signer(session: Any) -> Any:
    """An S3 client of ``session`` that signs with SigV4 (boto3 presigns with SigV2 otherwise,
    which SSE-KMS objects refuse). Keyed by session, so ``aws.reset`` renews it too."""
    return session.client("s3", config=aws.config().merge(Config(signature_version="s3v4")))


def metadata(key: str) -> dict[str, str] | None:
    """The user metadata of the object under ``key``; None if there is none (a HEAD)."""
    try:
        answer = aws.client("s3").head_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in _NOT_FOUND:
            return None
        raise
    found: dict[str, str] = answer.get("Metadata", {})
    return found
