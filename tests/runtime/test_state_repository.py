"""The lifecycle state table: reads, conditional writes, optimistic concurrency, pages."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest

from orchestrator.adapters.state_repository import (CREATION_DATE_INDEX, RECORD_KIND, RECORD_KIND_ATTRIBUTE,
                                                    STACK_TAG_INDEX, ConcurrentUpdate, StateRepository,
                                                    decode_page_token, encode_page_token, to_attribute_map)
from orchestrator.domain.errors import Conflict, NotFound, ValidationError
from stacks.amilifecycle.storage import (STATE_TABLE_CREATION_DATE_INDEX, STATE_TABLE_PARTITION_KEY,
                                         STATE_TABLE_RECORD_KIND, STATE_TABLE_RECORD_KIND_VALUE,
                                         STATE_TABLE_STACK_TAG_INDEX)

from .conftest import REGION, STACK_TAG


def record(lifecycle_id: str | None = None, *, stack_tag: str = STACK_TAG,
           creation_date: str = "2026-11-23T10:00:00Z", **extra) -> dict:
    return {"lifecycle_id": lifecycle_id or str(uuid.uuid4()), "stack_tag": stack_tag,
            "creation_date": creation_date, "owner": "platform-team", **extra}


@pytest.fixture
def repository(cloud) -> StateRepository:
    return StateRepository(cloud.state_table, sleep=lambda _seconds: None)


def test_the_index_the_repository_queries_is_the_one_the_stack_declares():
    assert STACK_TAG_INDEX == STATE_TABLE_STACK_TAG_INDEX
    assert STATE_TABLE_PARTITION_KEY == "lifecycle_id"
    assert (CREATION_DATE_INDEX, RECORD_KIND_ATTRIBUTE, RECORD_KIND) == (
        STATE_TABLE_CREATION_DATE_INDEX, STATE_TABLE_RECORD_KIND, STATE_TABLE_RECORD_KIND_VALUE)


def test_a_created_record_is_read_back_at_version_one(repository):
    created = repository.create(record("3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90", notes={"ticket": "OPS-1"}))
    assert created["version"] == 1
    assert repository.get("3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90") == created


def test_reading_an_unknown_lifecycle_raises_not_found_naming_it(repository):
    with pytest.raises(NotFound) as raised:
        repository.get("3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90")
    assert "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90" in raised.value.message
    assert raised.value.http_status == 404


def test_find_returns_none_for_an_unknown_lifecycle(repository):
    assert repository.find(str(uuid.uuid4())) is None


def test_creating_an_existing_lifecycle_is_a_conflict_and_keeps_the_first(repository):
    first = repository.create(record("3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90", owner="first"))
    with pytest.raises(Conflict):
        repository.create(record("3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90", owner="second"))
    assert repository.get(first["lifecycle_id"])["owner"] == "first"


def test_saving_at_the_read_version_stores_the_next_version(repository):
    created = repository.create(record())
    saved = repository.save({**created, "owner": "new-owner"}, expected_version=1)
    assert saved["version"] == 2
    assert repository.get(created["lifecycle_id"]) == saved


def test_saving_a_stale_read_raises_concurrent_update_and_changes_nothing(repository):
    created = repository.create(record())
    repository.save({**created, "owner": "winner"}, expected_version=1)
    with pytest.raises(ConcurrentUpdate) as raised:
        repository.save({**created, "owner": "loser"}, expected_version=1)
    assert raised.value.http_status == 409
    assert repository.get(created["lifecycle_id"])["owner"] == "winner"


def test_saving_a_record_that_does_not_exist_raises_concurrent_update(repository):
    with pytest.raises(ConcurrentUpdate):
        repository.save(record(), expected_version=1)


def test_a_record_written_before_versioning_is_saved_from_version_zero(cloud, repository):
    legacy = record()
    boto3.resource("dynamodb", region_name=REGION).Table(cloud.state_table).put_item(Item=legacy)
    saved = repository.save({**legacy, "owner": "new-owner"}, expected_version=0)
    assert saved["version"] == 1
    with pytest.raises(ConcurrentUpdate):
        repository.save({**legacy, "owner": "late"}, expected_version=0)


def test_update_reapplies_the_change_after_losing_a_race(repository):
    created = repository.create(record(events=[]))
    racer_done = False

    def append(event_name):
        def mutate(current):
            nonlocal racer_done
            if not racer_done:  # another writer lands between this read and this write
                racer_done = True
                stored = repository.get(current["lifecycle_id"])
                repository.save({**stored, "events": stored["events"] + ["RACER"]},
                                expected_version=stored["version"])
            return {**current, "events": current["events"] + [event_name]}
        return mutate

    updated = repository.update(created["lifecycle_id"], append("MINE"), current=created)
    assert updated["events"] == ["RACER", "MINE"]
    assert repository.get(created["lifecycle_id"]) == updated


def test_update_writes_nothing_when_the_change_is_empty(repository):
    created = repository.create(record())
    assert repository.update(created["lifecycle_id"], lambda current: current) == created
    assert repository.update(created["lifecycle_id"], lambda current: None) == created
    assert repository.get(created["lifecycle_id"])["version"] == 1


def test_update_gives_up_with_concurrent_update_after_the_allowed_attempts(repository):
    created = repository.create(record(counter=0))

    def always_overtaken(current):
        stored = repository.get(current["lifecycle_id"])
        repository.save({**stored, "counter": stored["counter"] + 1}, expected_version=stored["version"])
        return {**current, "owner": "never-stored"}

    with pytest.raises(ConcurrentUpdate):
        repository.update(created["lifecycle_id"], always_overtaken, attempts=3)
    assert repository.get(created["lifecycle_id"])["owner"] == "platform-team"


def test_concurrent_updates_from_threads_never_lose_one(repository):
    created = repository.create(record(events=[]))
    writers = 8

    def add(index):
        repository.update(created["lifecycle_id"],
                          lambda current: {**current, "events": current["events"] + [index]}, attempts=50)

    threads = [threading.Thread(target=add, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    stored = repository.get(created["lifecycle_id"])
    assert sorted(stored["events"]) == list(range(writers))
    assert stored["version"] == 1 + writers


def test_numbers_booleans_and_nesting_survive_a_round_trip(repository):
    created = repository.create(record(details={"score": 3, "ratio": 0.25, "ok": True, "none": None,
                                                "amis": [{"image": "ami-0123456789abcdef0", "count": 2}]}))
    read = repository.get(created["lifecycle_id"])
    assert read["details"] == {"score": 3, "ratio": 0.25, "ok": True, "none": None,
                               "amis": [{"image": "ami-0123456789abcdef0", "count": 2}]}
    assert isinstance(read["details"]["score"], int)


def test_listing_returns_a_stack_tags_lifecycles_newest_first_in_pages(repository):
    for minute in range(5):
        repository.create(record(creation_date=f"2026-11-23T10:0{minute}:00Z"))
    repository.create(record(stack_tag="other"))

    first = repository.list_by_stack_tag(STACK_TAG, limit=2)
    second = repository.list_by_stack_tag(STACK_TAG, limit=2, next_token=first.next_token)
    third = repository.list_by_stack_tag(STACK_TAG, limit=2, next_token=second.next_token)

    dates = [item["creation_date"] for page in (first, second, third) for item in page.items]
    assert dates == [f"2026-11-23T10:0{minute}:00Z" for minute in (4, 3, 2, 1, 0)]
    assert first.next_token and second.next_token
    assert third.next_token is None or repository.list_by_stack_tag(
        STACK_TAG, limit=2, next_token=third.next_token).items == []


def test_every_lifecycle_is_listed_newest_first_in_pages_whatever_its_stack_tag(repository):
    for minute, tag in enumerate(["main", "feature-x", "main"]):
        repository.create(record(stack_tag=tag, creation_date=f"2026-11-23T10:0{minute}:00Z"))

    first = repository.list_all(limit=2)
    second = repository.list_all(limit=2, next_token=first.next_token)

    assert [(item["stack_tag"], item["creation_date"]) for page in (first, second) for item in page.items] == [
        ("main", "2026-11-23T10:02:00Z"), ("feature-x", "2026-11-23T10:01:00Z"), ("main", "2026-11-23T10:00:00Z")]
    assert first.next_token and second.next_token is None


def test_the_listing_partition_attribute_is_stored_but_never_read_back(cloud, repository):
    created = repository.create(record())
    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=cloud.state_table, Key={"lifecycle_id": {"S": created["lifecycle_id"]}})["Item"]
    assert raw["record_kind"] == {"S": "lifecycle"}
    assert "record_kind" not in repository.get(created["lifecycle_id"])
    assert "record_kind" not in repository.list_all(limit=5).items[0]


def test_a_saved_record_written_before_the_listing_index_joins_it(cloud, repository):
    legacy = record()
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=cloud.state_table,
                                                          Item=to_attribute_map(legacy))
    assert repository.list_all(limit=5).items == []
    repository.save({**legacy, "owner": "new-owner"}, expected_version=0)
    [listed] = repository.list_all(limit=5).items
    assert listed["owner"] == "new-owner"


def test_a_page_token_of_a_stack_tag_listing_is_refused_for_the_listing_of_every_lifecycle():
    key = {"lifecycle_id": {"S": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"}, "stack_tag": {"S": "main"},
           "creation_date": {"S": "2026-11-23T10:00:00Z"}}
    with pytest.raises(ValidationError) as raised:
        decode_page_token(encode_page_token(key), None)
    assert raised.value.field == "next_token"
    every = {"lifecycle_id": {"S": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"}, "record_kind": {"S": "lifecycle"},
             "creation_date": {"S": "2026-11-23T10:00:00Z"}}
    assert decode_page_token(encode_page_token(every), None) == every
    with pytest.raises(ValidationError):
        decode_page_token(encode_page_token(every), "main")


def test_a_page_token_round_trips_to_the_last_evaluated_key():
    key = {"lifecycle_id": {"S": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"}, "stack_tag": {"S": "main"},
           "creation_date": {"S": "2026-11-23T10:00:00Z"}}
    token = encode_page_token(key)
    assert "=" not in token and "+" not in token and "/" not in token
    assert decode_page_token(token, "main") == key


@pytest.mark.parametrize("token", ["not base64!", "e30", "W10", "eyJsaWZlY3ljbGVfaWQiOiAiMSJ9"],
                         ids=["garbage", "empty-object", "a-list", "missing-keys"])
def test_a_malformed_page_token_is_a_validation_error_naming_next_token(token):
    with pytest.raises(ValidationError) as raised:
        decode_page_token(token, "main")
    assert raised.value.field == "next_token"


def test_a_page_token_of_another_stack_tag_is_refused():
    token = encode_page_token({"lifecycle_id": {"S": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"},
                               "stack_tag": {"S": "other"}, "creation_date": {"S": "2026-11-23T10:00:00Z"}})
    with pytest.raises(ValidationError):
        decode_page_token(token, "main")


def test_a_page_token_with_a_non_uuid_lifecycle_id_is_refused():
    token = encode_page_token({"lifecycle_id": {"S": "x"}, "stack_tag": {"S": "main"},
                               "creation_date": {"S": "2026-11-23T10:00:00Z"}})
    with pytest.raises(ValidationError):
        decode_page_token(token, "main")
