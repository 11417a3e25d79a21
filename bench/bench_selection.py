"""How much of the AMI lookup table a selection reads, against a full Scan.

Fills a lookup table (moto, in process, same key schema as the CDK stack)
with ``--rows`` entries spread over ``--tags`` stack tags, then runs the
selection client's query (amilc.lookup_query + the domain's first_match)
for several criteria on the busiest stack tag and prints, per selection,
the DynamoDB requests made, the entries DynamoDB evaluated (sum of
ScannedCount: what read capacity is billed on), the entries it returned
(sum of Count) and the wall time. The baseline is what an unindexed design
has to do: a paginated Scan of the whole table with the same filter,
keeping the highest version in memory.

Wall times are moto's in-process emulation, which walks the whole table
for every request: they show the trend, not DynamoDB latency. The entry
counts are exact.

    .venv/bin/python bench/bench_selection.py [--rows 100000] [--tags 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "client"))

import boto3  # noqa: E402
from boto3.dynamodb.conditions import Attr  # noqa: E402
from moto import mock_aws  # noqa: E402

from amilc import lookup_query  # noqa: E402
from orchestrator.domain.selection import SelectionCriteria, first_match  # noqa: E402
from orchestrator.domain.versioning import semver_sort_key, version_from_sort_key  # noqa: E402

REGION = "us-east-1"
BUSY_TAG = "main"
PRODUCTS = ("payments-service", "ledger", "web-frontend", "batch-jobs")
RARE_PRODUCT = "legacy-reports"
# Standing reached by the AMIs (most are only built or smoke tested, few approved).
SCORE_WEIGHTS = {1: 40, 2: 30, 3: 15, 4: 8, 5: 5, 6: 2}


@dataclass(frozen=True)
class Measure:
    name: str
    requests: int
    items_read: int
    items_returned: int
    seconds: float
    answer: str


def create_table(dynamodb: Any) -> Any:
    return dynamodb.create_table(
        TableName="AmiLookupTable-bench",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": lookup_query.TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                              for a in (lookup_query.TABLE_PARTITION_KEY, lookup_query.INDEX_PARTITION_KEY,
                                        lookup_query.INDEX_SORT_KEY)],
        GlobalSecondaryIndexes=[{
            "IndexName": lookup_query.SEMVER_INDEX,
            "KeySchema": [{"AttributeName": lookup_query.INDEX_PARTITION_KEY, "KeyType": "HASH"},
                          {"AttributeName": lookup_query.INDEX_SORT_KEY, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )


def entries(rows: int, tags: int, rng: random.Random) -> list[dict[str, Any]]:
    """``rows`` entries; the busy tag gets a quarter of them, the rest share the others.

    Versions grow with the entry's position in its tag (builds 1.0.0, 2.0.0, ...
    each with a few patches); the rare product exists only in the oldest 1 %
    of the busy tag, so selecting it pages through nearly the whole partition.
    """
    busy = rows // 4
    per_tag = [busy] + [(rows - busy) // max(tags - 1, 1)] * (tags - 1)
    per_tag[-1] += rows - sum(per_tag)
    scores, weights = zip(*SCORE_WEIGHTS.items())
    items = []
    for tag_index, count in enumerate(per_tag):
        tag = BUSY_TAG if tag_index == 0 else f"feature-{tag_index:03d}"
        for n in range(count):
            major, minor = n // 4 + 1, n % 4
            rare = tag == BUSY_TAG and n < count // 100
            ami_id = f"ami-{rng.getrandbits(68):017x}"
            version = f"{major}.{minor}.0"
            items.append({
                "lookup_id": f"{REGION}#{ami_id}", "stack_tag": tag, "ami_id": ami_id, "aws_region": REGION,
                "ami_semver": version, "semver_sort_key": semver_sort_key(version),
                "product_name": RARE_PRODUCT if rare else rng.choice(PRODUCTS), "product_ver": f"{major}.0",
                "commit_ref": f"{rng.getrandbits(160):040x}",
                "lifecycle_type": "ami-patch" if minor else "ami-creation",
                "lifecycle_id": f"{rng.getrandbits(128):032x}", "lifecycle_event": "BUILD_AMI",
                "lifecycle_score": rng.choices(scores, weights)[0],
                "last_modified": "2026-11-23T10:00:00Z",
            })
    return items


def fill(table: Any, items: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
    return time.perf_counter() - started


def timed(repeat: int, run: Callable[[], tuple[int, int, int, str]]) -> tuple[tuple[int, int, int, str], float]:
    times, outcome = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        outcome = run()
        times.append(time.perf_counter() - started)
    assert outcome is not None
    return outcome, statistics.median(times)


def selection(table: Any, criteria: SelectionCriteria) -> tuple[int, int, int, str]:
    stats = lookup_query.ReadStats()
    found = first_match(lookup_query.query_pages(table, criteria, stats), criteria)
    answer = f"{found['ami_semver']}" if found else "no match"
    return stats.pages, stats.items_read, stats.items_returned, answer


def scan_baseline(table: Any, criteria: SelectionCriteria) -> tuple[int, int, int, str]:
    """The whole table, paginated, filtered by DynamoDB, the highest version kept in memory."""
    condition = Attr("stack_tag").eq(criteria.stack_tag) & lookup_query.filter_expression(criteria)
    request: dict[str, Any] = {"FilterExpression": condition}
    pages = read = returned = 0
    best: str | None = None
    while True:
        page = table.scan(**request)
        pages += 1
        read += int(page["ScannedCount"])
        returned += int(page["Count"])
        for item in page["Items"]:
            if criteria.matches(item) and (best is None or item["semver_sort_key"] > best):
                best = item["semver_sort_key"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return pages, read, returned, version_from_sort_key(best) if best else "no match"


def run(rows: int, tags: int, repeat: int, seed: int) -> list[Measure]:
    rng = random.Random(seed)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        table = create_table(boto3.resource("dynamodb", region_name=REGION))
        items = entries(rows, tags, rng)
        seconds = fill(table, items)
        busy = sum(1 for item in items if item["stack_tag"] == BUSY_TAG)
        print(f"filled {rows} entries over {tags} stack tags ({busy} in '{BUSY_TAG}') in {seconds:.1f} s",
              file=sys.stderr)
        middle = next(item["ami_semver"] for item in items[busy // 2:] if item["stack_tag"] == BUSY_TAG)
        cases = {
            "latest (defaults)": {},
            f"exact --ami_semver {middle}": {"ami_semver": middle},
            "--lifecycle_event QA_CERTIFIED": {"lifecycle_event": "QA_CERTIFIED"},
            "--lifecycle_event PRODUCTION_APPROVED --lifecycle_type ami-creation":
                {"lifecycle_event": "PRODUCTION_APPROVED", "lifecycle_type": "ami-creation"},
            f"--product_name {RARE_PRODUCT} (oldest 1 %)": {"product_name": RARE_PRODUCT},
            "--product_name unknown (no match)": {"product_name": "unknown"},
        }
        measures = []
        for name, flags in cases.items():
            criteria = SelectionCriteria.parse(stack_tag=BUSY_TAG, region=REGION, **flags)
            (pages, read, returned, answer), median = timed(repeat, lambda: selection(table, criteria))
            measures.append(Measure(f"query: {name}", pages, read, returned, median, answer))
        baselines = {"latest (defaults)": {}, f"--product_name {RARE_PRODUCT}": {"product_name": RARE_PRODUCT}}
        for name, flags in baselines.items():
            criteria = SelectionCriteria.parse(stack_tag=BUSY_TAG, region=REGION, **flags)
            (pages, read, returned, answer), median = timed(repeat, lambda: scan_baseline(table, criteria))
            measures.append(Measure(f"baseline scan: {name}", pages, read, returned, median, answer))
        return measures


def table_text(measures: list[Measure]) -> str:
    width = max(len(m.name) for m in measures)
    lines = [f"{'selection':<{width}}  {'requests':>8}  {'items read':>10}  {'returned':>8}  {'time (s)':>8}  answer",
             "-" * (width + 58)]
    for m in measures:
        lines.append(f"{m.name:<{width}}  {m.requests:>8}  {m.items_read:>10}  {m.items_returned:>8}  "
                     f"{m.seconds:>8.3f}  {m.answer}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="entries in the table (default 100000)")
    parser.add_argument("--tags", type=int, default=50, help="stack tags (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per selection; the median time is shown")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated entries")
    args = parser.parse_args()
    if args.rows < 100 or args.tags < 2 or args.repeat < 1:
        parser.error("--rows must be at least 100, --tags at least 2 and --repeat at least 1")
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
          f"rows={args.rows}, tags={args.tags}, repeat={args.repeat}")
    print(table_text(run(args.rows, args.tags, args.repeat, args.seed)))


if __name__ == "__main__":
    main()
