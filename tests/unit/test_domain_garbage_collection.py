"""Which test instances are overdue: the whole elapsed time counts, days included."""

from datetime import datetime, timedelta, timezone

import pytest

from orchestrator.domain.garbage_collection import CollectionReport, TestInstance, is_overdue, overdue

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
THREE_HOURS = timedelta(hours=3)


def test_an_instance_younger_than_the_maximum_runtime_stays():
    assert not is_overdue(NOW - timedelta(hours=2, minutes=59), NOW, THREE_HOURS)


def test_an_instance_at_exactly_the_maximum_runtime_stays():
    assert not is_overdue(NOW - THREE_HOURS, NOW, THREE_HOURS)


def test_an_instance_older_than_the_maximum_runtime_is_overdue():
    assert is_overdue(NOW - timedelta(hours=3, seconds=1), NOW, THREE_HOURS)


def test_days_count_an_instance_one_day_and_one_hour_old_is_overdue():
    # Its "hours" component is 1, less than 3: counting hours alone would keep it forever.
    assert is_overdue(NOW - timedelta(days=1, hours=1), NOW, THREE_HOURS)


def test_times_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        is_overdue(datetime(2026, 11, 23, 8, 0), NOW, THREE_HOURS)


def test_overdue_instances_come_oldest_first():
    instances = [TestInstance("i-young", NOW - timedelta(hours=1), "running"),
                 TestInstance("i-week", NOW - timedelta(days=7), "stopped"),
                 TestInstance("i-day", NOW - timedelta(days=1, minutes=5), "running")]

    assert [i.instance_id for i in overdue(instances, NOW, THREE_HOURS)] == ["i-week", "i-day"]


def test_report_lists_terminated_instances_with_their_running_hours():
    instance = TestInstance("i-1", NOW - timedelta(days=1, hours=2), "running", lifecycle_id="lc-1")

    document = CollectionReport("main", NOW, THREE_HOURS, seen=4, terminated=(instance,)).to_dict()

    assert document["counts"] == {"instances_seen": 4, "instances_terminated": 1}
    assert document["terminated"][0]["running_hours"] == 26.0
    assert document["terminated"][0]["lifecycle_id"] == "lc-1"
