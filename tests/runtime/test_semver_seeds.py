"""The semver seed table hands out one distinct build version per call, even under races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from orchestrator.adapters.semver_seeds import SeedContention, SemverSeeds
from orchestrator.domain.errors import ValidationError
from tests.runtime.conftest import REGION, Cloud
from tests.runtime.conftest_build import atomic_dynamodb  # noqa: F401 (fixture)


@pytest.fixture
def seeds(cloud: Cloud) -> SemverSeeds:
    return SemverSeeds(cloud.semver_seed_table, "1.0.0", boto3.client("dynamodb", region_name=REGION))


def test_first_build_of_a_stack_tag_gets_the_default_seed(seeds: SemverSeeds) -> None:
    assert seeds.assign("main") == "1.0.0"


def test_each_build_moves_the_seed_one_major_version_up(seeds: SemverSeeds) -> None:
    assert [seeds.assign("main") for _ in range(3)] == ["1.0.0", "2.0.0", "3.0.0"]
    assert seeds.current_seed("main") == "4.0.0"


def test_stack_tags_have_independent_seeds(seeds: SemverSeeds) -> None:
    seeds.assign("main")
    assert seeds.assign("feature-x") == "1.0.0"


def test_a_stored_seed_wins_over_the_default(cloud: Cloud, seeds: SemverSeeds) -> None:
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=cloud.semver_seed_table, Item={"stack_tag": {"S": "main"}, "ami_semver": {"S": "7.0.0"}})
    assert seeds.assign("main") == "7.0.0"


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_builds_of_one_stack_tag_get_distinct_versions(seeds: SemverSeeds) -> None:
    start = threading.Barrier(8)

    def assign(_: int) -> str:
        start.wait()
        return seeds.assign("main")

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(assign, range(8)))
    assert sorted(versions, key=lambda v: int(v.split(".")[0])) == [f"{n}.0.0" for n in range(1, 9)]
    assert seeds.current_seed("main") == "9.0.0"


def test_a_writer_that_always_loses_the_race_gives_up_with_a_clear_error(cloud: Cloud) -> None:
    real = boto3.client("dynamodb", region_name=REGION)

    class AlwaysOvertaken:
        """Every read is followed by another writer's bump before our conditional write."""

        def __init__(self) -> None:
            self.competitor = SemverSeeds(cloud.semver_seed_table, "1.0.0", real)

        def get_item(self, **kwargs):
            answer = real.get_item(**kwargs)
            self.competitor.assign("main")
            return answer

        def update_item(self, **kwargs):
            return real.update_item(**kwargs)

    seeds = SemverSeeds(cloud.semver_seed_table, "1.0.0", AlwaysOvertaken(), max_attempts=3, sleep=lambda _: None)
    with pytest.raises(SeedContention, match="after 3 attempts"):
        seeds.assign("main")


def test_a_malformed_default_seed_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_SEMVER_SEED"):
        SemverSeeds("seeds", "one")


# ------------------------------------------------------------------ patch versions

def test_a_patch_gets_its_base_bumped_as_asked(seeds: SemverSeeds) -> None:
    assert seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-a") == "1.1.0"
    assert seeds.claim_patch_version("main", base="1.1.0", bump="PATCH", lifecycle_id="lc-a") == "1.1.1"


def test_a_retried_patch_of_the_same_lifecycle_keeps_its_version(seeds: SemverSeeds) -> None:
    first = seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-a")
    assert seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-a") == first


def test_a_version_another_lifecycle_holds_is_skipped(seeds: SemverSeeds) -> None:
    assert seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-a") == "1.1.0"
    assert seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-b") == "1.1.1"
    assert seeds.claim_patch_version("feature-x", base="1.0.0", bump="MINOR", lifecycle_id="lc-c") == "1.1.0"


def test_patch_claims_do_not_move_the_build_seed(seeds: SemverSeeds) -> None:
    seeds.assign("main")
    seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id="lc-a")
    assert seeds.current_seed("main") == "2.0.0"


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_patches_of_one_base_get_distinct_versions(seeds: SemverSeeds) -> None:
    start = threading.Barrier(6)

    def claim(index: int) -> str:
        start.wait()
        return seeds.claim_patch_version("main", base="1.0.0", bump="MINOR", lifecycle_id=f"lc-{index}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        versions = list(pool.map(claim, range(6)))
    assert sorted(versions) == ["1.1.0", "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"]
