"""Reading the AMI lookup table newest version first, one page at a time.

The selection is a Query on the ``stack_tag_semver_index`` (partition
``stack_tag``, sort ``semver_sort_key``) in descending key order, so the
entries arrive highest semantic version first; the domain's
:func:`first_match` stops at the first entry meeting the criteria, and no
later page is read. That is correct at any table size: paging goes on while
the filters skip entries, it never stops at the first page.

The criteria are also sent as a ``FilterExpression`` (so DynamoDB returns
only candidates), and the domain re-checks every entry it gets. Pages start
small and grow fourfold (8, 32, 128, 512 entries), then take DynamoDB's
full 1 MB: "the newest AMI" usually costs one request reading a few
entries, while a selective filter still pages through in few requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from orchestrator.domain.selection import SelectionCriteria

# stacks/amilifecycle/storage.py: the table's key, LOOKUP_TABLE_SEMVER_INDEX and its key attributes.
TABLE_PARTITION_KEY = "lookup_id"
SEMVER_INDEX = "stack_tag_semver_index"
INDEX_PARTITION_KEY = "stack_tag"
INDEX_SORT_KEY = "semver_sort_key"

FIRST_PAGE_SIZE = 8
PAGE_GROWTH = 4
# Pages above this size are left to DynamoDB's own limit (1 MB of entries).
LARGEST_LIMITED_PAGE = 512


@dataclass
class ReadStats:
    """What a selection cost: DynamoDB requests, entries evaluated, entries returned."""

    pages: int = 0
    items_read: int = 0
    items_returned: int = 0


def key_condition(criteria: SelectionCriteria) -> ConditionBase:
    """The stack tag's partition, narrowed to one sort key for an exact version."""
    wanted = criteria.key_condition()
    condition: ConditionBase = Key(INDEX_PARTITION_KEY).eq(wanted.stack_tag)
    if wanted.semver_sort_key is not None:
        condition = condition & Key(INDEX_SORT_KEY).eq(wanted.semver_sort_key)
    return condition


def filter_expression(criteria: SelectionCriteria) -> ConditionBase:
    """Every criterion that is not part of the key (DynamoDB refuses key attributes in a filter)."""
    condition: ConditionBase = Attr("lifecycle_score").gte(criteria.min_score)
    for name, value in criteria.equality_filters().items():
        if name != INDEX_PARTITION_KEY:
            condition = condition & Attr(name).eq(value)
    return condition


def query_pages(table: Any, criteria: SelectionCriteria, stats: ReadStats | None = None, *,
                first_page_size: int = FIRST_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
    """Pages of candidate entries, newest version first; fetched only when the consumer asks."""
    stats = stats if stats is not None else ReadStats()
    request: dict[str, Any] = {
        "IndexName": SEMVER_INDEX,
        "KeyConditionExpression": key_condition(criteria),
        "FilterExpression": filter_expression(criteria),
        "ScanIndexForward": not criteria.key_condition().newest_first,
    }
    size: int | None = first_page_size
    while True:
        page = table.query(**request, **({"Limit": size} if size else {}))
        stats.pages += 1
        stats.items_read += int(page.get("ScannedCount", 0))
        stats.items_returned += int(page.get("Count", 0))
        yield [plain(item) for item in page.get("Items", [])]
        last_key = page.get("LastEvaluatedKey")
        if not last_key:
            return
        request["ExclusiveStartKey"] = last_key
        size = size * PAGE_GROWTH if size and size * PAGE_GROWTH <= LARGEST_LIMITED_PAGE else None


def plain(value: Any) -> Any:
    """DynamoDB numbers (Decimal) as int or float, recursively, for JSON output."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
