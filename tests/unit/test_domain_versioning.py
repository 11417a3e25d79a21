"""Semantic versions: build seeds, patch bumps, and the sort key whose byte order is semver order."""

import random
from datetime import datetime, timedelta, timezone

import pytest
import semver

from orchestrator.domain import versioning as v
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.vocabulary import SemverBump


def test_first_build_of_a_stack_tag_gets_the_default_seed():
    assert v.assign_build_version(None, "1.0.0") == ("1.0.0", "2.0.0")


def test_successive_builds_of_a_stack_tag_are_major_versions():
    seed, assigned = None, []
    for _ in range(3):
        version, seed = v.assign_build_version(seed, "1.0.0")
        assigned.append(version)

    assert assigned == ["1.0.0", "2.0.0", "3.0.0"]


def test_stored_seed_wins_over_the_default():
    assert v.assign_build_version("7.0.0", "1.0.0") == ("7.0.0", "8.0.0")


def test_malformed_seed_is_refused():
    with pytest.raises(ValidationError, match="seed: expected a semantic version"):
        v.assign_build_version("v1", "1.0.0")


def test_minor_patch_bump():
    assert v.bump_version("2.0.0", SemverBump.MINOR) == "2.1.0"


def test_patch_patch_bump():
    assert v.bump_version("2.1.0", SemverBump.PATCH) == "2.1.1"


def test_successive_patches_bump_from_the_previous_patch():
    versions = ["1.0.0"]
    for bump in (SemverBump.MINOR, SemverBump.PATCH, SemverBump.PATCH, SemverBump.MINOR):
        versions.append(v.bump_version(versions[-1], bump))

    assert versions == ["1.0.0", "1.1.0", "1.1.1", "1.1.2", "1.2.0"]


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "1.0.0-", "latest", "", "1.0.0-01"])
def test_invalid_versions_are_refused(text):
    with pytest.raises(ValidationError):
        v.parse_version(text)


def test_versions_beyond_the_key_width_are_refused():
    with pytest.raises(ValidationError, match="at most 999999"):
        v.parse_version("1000000.0.0")


def test_sort_key_of_a_release_is_zero_padded_with_release_mark():
    assert v.semver_sort_key("1.2.3") == "000001.000002.000003~"


def test_sort_key_of_a_pre_release_encodes_its_identifiers():
    assert v.semver_sort_key("1.2.3-rc.1") == "000001.000002.000003-1rc!0000001"


def test_sort_key_ignores_build_metadata_like_semver_precedence():
    assert v.semver_sort_key("1.2.3+build.7") == v.semver_sort_key("1.2.3")


def test_pre_release_sorts_before_its_release():
    assert v.semver_sort_key("1.0.0-rc.9") < v.semver_sort_key("1.0.0")


def test_ten_sorts_after_nine():
    assert v.semver_sort_key("10.0.0") > v.semver_sort_key("9.0.0")


def test_semver_spec_precedence_example_is_preserved():
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0"]

    assert sorted(ordered, key=v.semver_sort_key) == ordered


def _random_version(rng: random.Random) -> str:
    core = ".".join(str(rng.choice([0, 1, 2, 9, 10, 11, 99, 100, rng.randint(0, 999999)])) for _ in range(3))
    if rng.random() < 0.4:
        return core
    identifiers = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            identifiers.append(str(rng.choice([0, 1, 2, 10, 11, rng.randint(0, 999999)])))
        else:
            identifiers.append(rng.choice(["alpha", "beta", "rc", "a", "a-b", "Alpha", "x1", "0a", "alpha-x"]))
    return f"{core}-{'.'.join(identifiers)}"


def test_sort_key_order_equals_semver_precedence_for_many_random_pairs():
    rng = random.Random(20261123)
    for _ in range(3000):
        left, right = _random_version(rng), _random_version(rng)
        key_order = (v.semver_sort_key(left) > v.semver_sort_key(right)) - (
            v.semver_sort_key(left) < v.semver_sort_key(right))

        assert key_order == semver.Version.parse(left).compare(right), (left, right)


def test_sort_key_decodes_to_its_version_for_many_random_versions():
    rng = random.Random(7)
    for _ in range(1000):
        version = _random_version(rng)

        assert v.version_from_sort_key(v.semver_sort_key(version)) == version


def test_every_produced_key_is_recognised_as_a_sort_key():
    assert v.is_sort_key(v.semver_sort_key("3.0.0-beta.2"))


@pytest.mark.parametrize("key", ["1.0.0", "000001.000000.000000", "000001.000000.000000-", "000001.000000.0000001~",
                                 "000001.000000.000000-0000001x", "000001.000000.000000-00000001"])
def test_strings_that_no_version_produces_are_not_sort_keys(key):
    assert not v.is_sort_key(key)


def test_decoding_a_malformed_key_names_the_field():
    with pytest.raises(ValidationError) as caught:
        v.version_from_sort_key("garbage")

    assert caught.value.field == "semver_sort_key"


def test_latest_version_uses_semver_precedence():
    assert v.latest_version(["9.0.0", "10.0.0", "10.0.0-rc.1"]) == "10.0.0"


def test_latest_version_of_nothing_is_none():
    assert v.latest_version([]) is None


def test_compare_versions():
    assert [v.compare_versions("1.0.0", "2.0.0"), v.compare_versions("2.0.0", "2.0.0"),
            v.compare_versions("2.1.0", "2.0.0")] == [-1, 0, 1]


def test_image_builder_version_is_unique_per_second_and_has_no_leading_zeros():
    moment = datetime(2026, 3, 5, 1, 2, 3, tzinfo=timezone.utc)

    assert v.image_builder_version(moment) == ("2026.3.5010203", "2026-03-05010203")
    assert v.image_builder_version(moment + timedelta(seconds=1))[0] == "2026.3.5010204"


def test_image_builder_version_requires_an_aware_datetime():
    with pytest.raises(ValueError):
        v.image_builder_version(datetime(2026, 3, 5))
