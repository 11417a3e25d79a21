"""The lookup table query behind the selection: key condition, filter and paging."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import ConditionExpressionBuilder

from amilc import lookup_query
from orchestrator.domain.selection import SelectionCriteria


def rendered(condition: Any, *, key: bool) -> tuple[str, dict[str, str], dict[str, Any]]:
    built = ConditionExpressionBuilder().build_expression(condition, is_key_condition=key)
    return built.condition_expression, built.attribute_name_placeholders, built.attribute_value_placeholders


def criteria(**flags: str) -> SelectionCriteria:
    return SelectionCriteria.parse(stack_tag="main", region="us-east-1", **flags)


class FakeTable:
    """Answers queries from a list of pages and records every request."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        index = len(self.requests) - 1
        answer: dict[str, Any] = {"Items": self.pages[index], "Count": len(self.pages[index]),
                                  "ScannedCount": request.get("Limit", 2000)}
        if index + 1 < len(self.pages):
            answer["LastEvaluatedKey"] = {"lookup_id": f"page-{index}"}
        return answer


def test_the_key_names_match_the_cdk_lookup_table():
    from stacks.amilifecycle.storage import LOOKUP_TABLE_PARTITION_KEY, LOOKUP_TABLE_SEMVER_INDEX

    assert lookup_query.TABLE_PARTITION_KEY == LOOKUP_TABLE_PARTITION_KEY
    assert lookup_query.SEMVER_INDEX == LOOKUP_TABLE_SEMVER_INDEX


def test_latest_queries_the_whole_stack_tag_partition():
    expression, names, values = rendered(lookup_query.key_condition(criteria()), key=True)

    assert list(names.values()) == ["stack_tag"]
    assert list(values.values()) == ["main"]


def test_an_exact_version_adds_its_sort_key_to_the_key_condition():
    expression, names, values = rendered(lookup_query.key_condition(criteria(ami_semver="2.10.0")), key=True)

    assert sorted(names.values()) == ["semver_sort_key", "stack_tag"]
    assert "000002.000010.000000~" in values.values()


def test_the_filter_never_names_a_key_attribute_of_the_index():
    wanted = criteria(product_name="payments", product_ver="1.0", commit_ref="abc", lifecycle_type="ami-patch")

    _, names, values = rendered(lookup_query.filter_expression(wanted), key=False)

    assert "stack_tag" not in names.values() and "semver_sort_key" not in names.values()
    assert sorted(names.values()) == ["aws_region", "commit_ref", "lifecycle_score", "lifecycle_type",
                                      "product_name", "product_ver"]


def test_the_filter_asks_for_at_least_the_score_of_the_lifecycle_event():
    _, names, values = rendered(lookup_query.filter_expression(criteria(lifecycle_event="QA_CERTIFIED")), key=False)

    assert 5 in values.values()


def test_pages_are_read_newest_first_and_grow_until_dynamodb_sets_the_size():
    table = FakeTable([[] for _ in range(7)])

    pages = list(lookup_query.query_pages(table, criteria()))

    assert len(pages) == 7
    assert [r.get("Limit") for r in table.requests] == [8, 32, 128, 512, None, None, None]
    assert all(r["ScanIndexForward"] is False for r in table.requests)
    assert table.requests[1]["ExclusiveStartKey"] == {"lookup_id": "page-0"}


def test_a_page_is_fetched_only_when_the_previous_one_had_no_match():
    table = FakeTable([[{"x": 1}], [{"x": 2}]])
    stats = lookup_query.ReadStats()

    first = next(iter(lookup_query.query_pages(table, criteria(), stats)))

    assert first == [{"x": 1}]
    assert len(table.requests) == 1 and stats.pages == 1 and stats.items_read == 8


def test_numbers_come_back_as_plain_ints_and_floats():
    from decimal import Decimal

    assert lookup_query.plain({"a": Decimal("3"), "b": [Decimal("1.5")]}) == {"a": 3, "b": [1.5]}
