"""FileStore contract: S3 (moto over HTTP) and the in-memory store keep bytes as given,
answer None for a missing key, refuse to read beyond a size, and hand out upload URLs;
the S3 URL really takes a PUT."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from chalicelib.errors import FileTooLarge
from chalicelib.ports import FileStore
from tests.contract.builders import unique
from tests.fakes import InMemoryFileStore

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileStoreContract:
    files: FileStore

    def test_bytes_come_back_as_stored(self) -> None:
        key = f"jobs/ntua/{unique()}/input.xlsx"
        data = bytes(range(256)) * 10
        self.files.put(key, data, XLSX)
        assert self.files.get(key, max_bytes=len(data)) == data
        assert self.files.exists(key)

    def test_a_missing_key_is_none(self) -> None:
        key = f"jobs/ntua/{unique()}/input.xlsx"
        assert self.files.get(key, max_bytes=10) is None
        assert not self.files.exists(key)

    def test_a_file_beyond_the_limit_is_refused_with_its_size(self) -> None:
        key = f"jobs/ntua/{unique()}/input.xlsx"
        self.files.put(key, b"x" * 101, XLSX)
        with pytest.raises(FileTooLarge) as caught:
            self.files.get(key, max_bytes=100)
        assert caught.value.size == 101

    def test_an_upload_url_names_the_key(self) -> None:
        key = f"jobs/ntua/{unique()}/input.xlsx"
        assert key in self.files.upload_url(key, XLSX, timedelta(minutes=15))


class TestInMemoryFileStore(FileStoreContract):
    @pytest.fixture(autouse=True)
    def _store(self) -> None:
        self.files = InMemoryFileStore()


class TestS3FileStore(FileStoreContract):
    @pytest.fixture(autouse=True)
    def _store(self, aws_endpoint: str) -> None:
        from chalicelib.adapters.s3_files import S3FileStore
        from chalicelib.container import _s3_client
        from chalicelib.settings import Settings

        settings = Settings.from_environ(os.environ)
        self.files = S3FileStore(_s3_client(settings), bucket=settings.upload_bucket)

    def test_the_presigned_url_takes_a_put_of_the_file(self) -> None:
        import requests

        key = f"jobs/ntua/{unique()}/input.xlsx"
        url = self.files.upload_url(key, XLSX, timedelta(minutes=15))
        answer = requests.put(url, data=b"PK\x03\x04 a workbook", headers={"Content-Type": XLSX}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert self.files.get(key, max_bytes=1000) == b"PK\x03\x04 a workbook"
