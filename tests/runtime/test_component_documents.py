"""Reading patch component documents from S3 (moto), as route 8 does before a patch starts."""

from __future__ import annotations

import boto3
import pytest

from orchestrator.adapters.components import ComponentDocuments
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.patches import MAX_DOCUMENT_BYTES, check_component_document
from tests.runtime.conftest import REGION, Cloud

BUCKET = "patch-components"


@pytest.fixture
def documents(cloud: Cloud) -> ComponentDocuments:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="lc/fix.yml",
                  Body=b"schemaVersion: 1.0\nphases:\n  - name: build\n    steps: [{name: a, action: UpdateOS}]\n")
    s3.put_object(Bucket=BUCKET, Key="lc/huge.yml", Body=b"#" * (MAX_DOCUMENT_BYTES * 2))
    return ComponentDocuments(client=s3)


def test_a_document_is_read_whole(documents: ComponentDocuments) -> None:
    text = documents.read(f"s3://{BUCKET}/lc/fix.yml")
    assert check_component_document(text, url="u")["schemaVersion"] == 1.0


def test_a_missing_document_is_a_400_naming_the_url(documents: ComponentDocuments) -> None:
    with pytest.raises(ValidationError, match=f"there is no object s3://{BUCKET}/lc/missing.yml"):
        documents.read(f"s3://{BUCKET}/lc/missing.yml")


def test_a_document_over_the_limit_is_read_only_far_enough_to_refuse_it(documents: ComponentDocuments) -> None:
    text = documents.read(f"s3://{BUCKET}/lc/huge.yml")
    assert len(text) == MAX_DOCUMENT_BYTES + 1
    with pytest.raises(ValidationError, match="larger than"):
        check_component_document(text, url=f"s3://{BUCKET}/lc/huge.yml")
