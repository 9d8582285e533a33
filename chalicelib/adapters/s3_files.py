"""Uploaded spreadsheets and reports in Amazon S3 (bucket ``MITROO_UPLOAD_BUCKET``).

Large files skip API Gateway's payload limit through a presigned PUT URL; the bucket's
lifecycle rule (infra) removes job files after the retention period, as the job's TTL
removes its record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.errors import FileTooLarge


class S3FileStore:
    def __init__(self, client: Any, *, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256"
        )

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        size = self._size(key)
        if size is None:
            return None
        if size > max_bytes:
            raise FileTooLarge(size)
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        body: bytes = answer["Body"].read(max_bytes + 1)
        if len(body) > max_bytes:  # replaced by a bigger file since the size check
            raise FileTooLarge(len(body))
        return body

    def exists(self, key: str) -> bool:
        return self._size(key) is not None

    def upload_url(self, key: str, content_type: str, expires_in: timedelta) -> str:
        return str(
            self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type},
                ExpiresIn=int(expires_in.total_seconds()),
                HttpMethod="PUT",
            )
        )

    def _size(self, key: str) -> int | None:
        try:
            answer = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return int(answer["ContentLength"])


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}
