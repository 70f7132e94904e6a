"""Segments: a saved segment with three filters and a Chinese text search over 200,000 profiles,
``GET /v1/segments/{id}/profiles`` on the real talent pool process (a page of 50 people and
the count over all pages), one request at a time, timed by the client from sending the request
to reading the whole answer; the figure is the p95.

The pool is written with COPY before the service starts: profiles with realistic skills,
cities, engagement, furthest stages and last activity, their tags, and search tokens made from
generated Chinese and English resumes by the service's own ``segments.text.index_tokens`` with
this run's index key (the key the service hashes the query with). The profiles' secondary
indexes are dropped for the load and built again from their own definitions, then the tables
are analyzed, as after a bulk import.

Four segments take turns (``tags_any`` + ``engagement_min`` + ``location`` + ``text``, each
with another city, tag and phrase), after a few warm-up requests each. Each segment's count is
checked against the same filters written by hand in SQL, and the plan of the service's
statement (EXPLAIN ANALYZE) is kept in the details.

``python -m bench.talentpool_segments`` runs this part alone on a throwaway database and
broker namespace (``--profiles``, ``--requests``), prints the figures and cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from bench import processes
from bench.environment import PII_KEY_ID, BenchRun, admin_connection, delete_service_queues
from bench.report import Distribution, Figure, percentile
from bench.web import bearer
from shared.bootstrap import bootstrap
from shared.crypto import Keyring, decode_key
from shared.http.pagination import PageParams
from shared.migrations import upgrade
from talentpool.app import spec as talentpool_spec
from talentpool.profiles.stages import RANKS
from talentpool.segments import service as segments
from talentpool.segments.schemas import SegmentFilters
from talentpool.segments.text import index_tokens
from talentpool.settings import TalentpoolSettings

SERVICE = "talentpool"
TARGET_P95_MS = 100.0
NOW = datetime.now(UTC).replace(microsecond=0)

CITIES = [
    ("上海", 15),
    ("北京", 15),
    ("深圳", 12),
    ("杭州", 10),
    ("广州", 8),
    ("成都", 6),
    ("南京", 5),
    ("武汉", 5),
    ("西安", 4),
    ("苏州", 4),
    ("天津", 3),
    ("重庆", 3),
    ("长沙", 3),
    ("厦门", 2),
    ("青岛", 2),
    ("Singapore", 2),
    ("Remote", 1),
]
SKILLS = (
    "python",
    "sql",
    "java",
    "go",
    "rust",
    "c++",
    "javascript",
    "typescript",
    "react",
    "vue",
    "node.js",
    "kotlin",
    "swift",
    "excel",
    "tableau",
    "power_bi",
    "spark",
    "hadoop",
    "flink",
    "kafka",
    "airflow",
    "dbt",
    "pandas",
    "numpy",
    "pytorch",
    "tensorflow",
    "scikit-learn",
    "statistics",
    "a/b_testing",
    "docker",
    "kubernetes",
    "terraform",
    "aws",
    "aliyun",
    "linux",
    "mysql",
    "postgresql",
    "redis",
    "elasticsearch",
    "clickhouse",
    "hive",
    "figma",
    "photoshop",
    "product_management",
    "scrum",
    "user_research",
    "copywriting",
    "seo",
    "sem",
    "livestreaming",
    "negotiation",
    "recruiting",
    "accounting",
    "sap",
    "erp",
    "autocad",
    "solidworks",
    "matlab",
)
TAGS = [("runner_up", 0.20), ("re_invite", 0.10), ("no_show", 0.08), ("campus_2025", 0.05)]
ON_HOLD = 0.03
STAGES = [(None, 20), ("ai_interview", 30), ("evaluation", 15), ("interview", 20)]
STAGES += [("background_check", 5), ("offer", 6), ("hired", 4)]


# Resume lines: schools, roles, and duties made of a verb, a business area and a piece of
# work, in Chinese with English tool names, so a phrase like 数据分析 is in about one resume
# in five and 实时数仓 with kafka in about one in a hundred.
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ROLES = _words(
    "数据分析师 后端开发工程师 前端开发工程师 算法工程师 产品经理 运营专员 用户研究员 "
    "测试开发工程师 数据仓库工程师 市场专员 财务分析师 招聘专员 机械工程师 销售经理 "
    "客服主管 供应链专员 质量工程师 电气工程师 设计师 项目经理 架构师 运维工程师 "
    "安全工程师 商务拓展 行政专员 培训讲师 内容编辑 投资分析师 法务专员 采购经理"
)
VERBS = _words("负责 参与 主导 搭建 优化 维护 设计 推动 完成 建立 重构 改进 落地 规划 管理")
AREAS = _words(
    "用户增长 电商交易 广告投放 供应链 风控 会员体系 内容社区 直播业务 支付结算 客服中心 "
    "物流调度 智能制造 金融科技 在线教育 医疗健康 企业服务 游戏发行 本地生活 出行业务 "
    "跨境电商 新能源 半导体 房产中介 零售门店 酒店旅游 汽车销售 保险理赔 政务平台 "
    "智慧园区 农业电商"
)
WORKS = _words(
    "数据分析 报表开发 实时数仓 推荐算法 风控模型 用户画像 搜索排序 接口开发 微服务架构 "
    "前端页面 移动端应用 性能优化 自动化测试 持续集成 容器化部署 日志平台 监控告警 需求分析 "
    "竞品调研 产品规划 活动运营 内容审核 社群运营 渠道投放 品牌推广 招聘流程 薪酬核算 "
    "财务报表 成本控制 供应商管理 库存管理 生产排程 质量检测 设备维护 客户关系 商务谈判 "
    "合同管理 培训体系 知识库建设 流程优化"
)
RESULTS = _words(
    "效率提升明显 成本下降 转化率提升 用户满意度提高 获得年度优秀员工 按期上线 故障率降低 营收增长"
)
SCHOOLS = _words("复旦大学 浙江大学 上海交通大学 华中科技大学 中山大学 北京邮电大学 四川大学")


# The measured segments: three filters and a text search each.
VARIANTS: list[dict[str, Any]] = [
    {
        "tags_any": ["runner_up", "re_invite"],
        "engagement_min": 60,
        "location": "上海",
        "text": "数据分析",
    },
    {"tags_any": ["runner_up"], "engagement_min": 50, "location": "北京", "text": "推荐算法"},
    {
        "tags_any": ["re_invite", "campus_2025"],
        "engagement_min": 40,
        "location": "深圳",
        "text": "实时数仓 kafka",
    },
    {
        "tags_any": ["runner_up", "no_show"],
        "engagement_min": 70,
        "location": "杭州",
        "text": "用户增长",
    },
]


@dataclass(frozen=True)
class SegmentsPlan:
    profiles: int = 200_000
    requests: int = 200
    warmups: int = 5
    page_size: int = 50
    seed: int = 20_250_601


@dataclass(frozen=True)
class Variant:
    filters: dict[str, Any]
    count: int
    samples_ms: list[float]
    plans: dict[str, str]


@dataclass(frozen=True)
class SegmentsResult:
    profiles: int
    tags: int
    tokens: int
    seed_s: float
    index_s: float
    samples_ms: list[float]
    variants: list[Variant]
    response_bytes: int
    disturbances: list[str] = field(default_factory=list)

    @property
    def p95_ms(self) -> float:
        return percentile(sorted(self.samples_ms), 95)


class _CachingKeyring(Keyring):
    """The run's keyring, remembering each term's keyed hash: a generated pool repeats its
    vocabulary, and hashing is the bulk of making tokens."""

    def __init__(self, run: BenchRun) -> None:
        super().__init__(
            {PII_KEY_ID: decode_key(run.pii_key)},
            current=PII_KEY_ID,
            index_key=decode_key(run.pii_index_key),
        )
        self._seen: dict[tuple[str, str], bytes] = {}

    def blind_index(self, normalized: str, *, context: str) -> bytes:
        key = (normalized, context)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = super().blind_index(normalized, context=context)
        return found


def talentpool_settings(run: BenchRun) -> TalentpoolSettings:
    return run.service_settings(
        TalentpoolSettings,
        SERVICE,
        pii_keys={PII_KEY_ID: run.pii_key},
        pii_index_key=run.pii_index_key,
    )


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _resume(rng: random.Random, skills: list[str]) -> str:
    lines = [f"{rng.choice(SCHOOLS)} {rng.choice(['本科', '硕士', '博士'])}"]
    for _ in range(rng.randint(2, 4)):
        start = rng.randint(2010, 2024)
        lines.append(f"{start}-{start + rng.randint(1, 5)} {rng.choice(ROLES)}")
        for _ in range(rng.randint(1, 3)):
            duty = f"{rng.choice(VERBS)}{rng.choice(AREAS)}{rng.choice(WORKS)}"
            if rng.random() < 0.5:
                duty += f" 使用 {rng.choice(skills).replace('_', ' ')}"
            lines.append(f"{duty} {rng.choice(RESULTS)}。")
    lines.append("技能 " + " ".join(s.replace("_", " ") for s in skills))
    return "\n".join(lines)


def _people(plan: SegmentsPlan, keyring: Keyring) -> Iterator[tuple[tuple[Any, ...], list[Any]]]:
    """Each person's profile row (in ``_PROFILE_COLUMNS`` order) and their tag rows."""
    rng = random.Random(plan.seed)
    for _ in range(plan.profiles):
        profile_id = uuid.uuid4()
        skills = sorted(set(rng.sample(SKILLS, rng.randint(3, 8))))
        kind = _weighted(rng, STAGES)
        engagement = max(0, min(100, round(rng.gauss(50, 20))))
        # Recent activity is likelier: the square of a uniform draw leans towards 0 days ago.
        last = NOW - timedelta(days=1095 * rng.random() ** 2, seconds=rng.randint(0, 86_399))
        on_hold = NOW + timedelta(days=rng.randint(1, 180)) if rng.random() < ON_HOLD else None
        first = last - timedelta(days=rng.randint(0, 700))
        tokens = index_tokens(keyring, _resume(rng, skills))
        row = (
            profile_id,
            _weighted(rng, CITIES),
            skills,
            tokens,
            0 if kind is None else RANKS[kind],
            kind,
            engagement,
            first,
            last,
            on_hold,
            NOW,
            first,
            NOW,
        )
        tags = [
            (profile_id, tag, "rule", NOW - timedelta(days=rng.randint(1, 300)))
            for tag, share in TAGS
            if rng.random() < share
        ]
        yield row, tags


_PROFILE_COLUMNS = [
    "id",
    "location",
    "skills",
    "search_tokens",
    "furthest_rank",
    "furthest_stage_kind",
    "engagement_score",
    "first_seen_at",
    "last_activity_at",
    "on_hold_until",
    "contacts_checked_at",
    "created_at",
    "updated_at",
]
_TAG_COLUMNS = ["profile_id", "tag", "source", "added_at"]
_CHUNK = 10_000


async def _seed(run: BenchRun, plan: SegmentsPlan) -> tuple[int, int, float, float]:
    """Write the pool; (tags, tokens, seconds to write, seconds to index and analyze)."""
    keyring = _CachingKeyring(run)
    connection = await admin_connection(run)
    tags = tokens = 0
    try:
        started = time.perf_counter()
        indexes = await connection.fetch(
            """SELECT indexname, indexdef FROM pg_indexes
               WHERE schemaname = 'talentpool' AND tablename IN ('profiles', 'profile_tags')
                 AND indexname NOT LIKE 'pk_%'"""
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX talentpool."{index["indexname"]}"')
        rows: list[tuple[Any, ...]] = []
        tag_rows: list[Any] = []
        for row, person_tags in _people(plan, keyring):
            rows.append(row)
            tag_rows += person_tags
            tokens += len(row[3])
            if len(rows) == _CHUNK:
                await _copy(connection, rows, tag_rows)
                tags += len(tag_rows)
                rows, tag_rows = [], []
        if rows:
            await _copy(connection, rows, tag_rows)
            tags += len(tag_rows)
        seeded = time.perf_counter()
        await connection.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute("VACUUM ANALYZE talentpool.profiles")
        await connection.execute("VACUUM ANALYZE talentpool.profile_tags")
        indexed = time.perf_counter()
    finally:
        await connection.close()
    return tags, tokens, seeded - started, indexed - seeded


async def _copy(connection: Any, rows: list[tuple[Any, ...]], tag_rows: list[Any]) -> None:
    await connection.copy_records_to_table(
        "profiles", schema_name="talentpool", columns=_PROFILE_COLUMNS, records=rows
    )
    if tag_rows:
        await connection.copy_records_to_table(
            "profile_tags", schema_name="talentpool", columns=_TAG_COLUMNS, records=tag_rows
        )


def _statement(filters: SegmentFilters, keyring: Keyring, limit: int) -> tuple[str, list[Any]]:
    """The service's statement for the first page and the count of ``filters``, as asyncpg's
    SQL and arguments, to EXPLAIN it."""
    where = segments.members(filters, keyring=keyring, now=NOW, visible=None)
    statement = segments.page_statement(where, now=NOW, params=PageParams(limit=limit, cursor=None))
    compiled = statement.compile(dialect=PGDialect_asyncpg())  # type: ignore[no-untyped-call]
    return str(compiled), [compiled.params[key] for key in compiled.positiontup or []]


def _expected_count(filters: dict[str, Any], keyring: Keyring) -> tuple[str, list[Any]]:
    """The same filters written by hand, to check the service's count."""
    from talentpool.segments.text import query_tokens

    return (
        """SELECT count(*) FROM talentpool.profiles p
           WHERE p.merged_into IS NULL AND p.anonymized_at IS NULL
             AND p.search_tokens @> $1 AND p.engagement_score >= $2
             AND lower(p.location) = lower($3)
             AND EXISTS (SELECT 1 FROM talentpool.profile_tags t
                         WHERE t.profile_id = p.id AND t.tag = ANY($4)
                           AND (t.until IS NULL OR t.until > now()))""",
        [
            query_tokens(keyring, filters["text"]),
            filters["engagement_min"],
            filters["location"],
            filters["tags_any"],
        ],
    )


async def _explain(
    run: BenchRun, filters: dict[str, Any], keyring: Keyring, limit: int
) -> dict[str, Any]:
    sql, arguments = _statement(SegmentFilters.model_validate(filters), keyring, limit)
    expected_sql, expected_args = _expected_count(filters, keyring)
    connection = await admin_connection(run)
    try:
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *arguments)
        plans = {"page_and_count": "\n".join(row[0] for row in rows)}
        expected = int(await connection.fetchval(expected_sql, *expected_args))
    finally:
        await connection.close()
    return {"plans": plans, "expected": expected}


async def _timed(client: httpx.AsyncClient, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.get(path)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
    return elapsed_ms, response


async def measure(run: BenchRun, plan: SegmentsPlan) -> SegmentsResult:
    settings = talentpool_settings(run)
    await bootstrap(settings, talentpool_spec.extensions)
    await asyncio.to_thread(upgrade, settings, talentpool_spec)
    tags, tokens, seed_s, index_s = await _seed(run, plan)
    keyring = _CachingKeyring(run)
    port = processes.free_port()
    token = bearer(run, role="admin", subject="admin-bench")
    try:
        async with (
            processes.service(
                "talentpool-segments",
                SERVICE,
                env=run.service_env(SERVICE),
                workdir=run.workdir,
                port=port,
            ) as server,
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                timeout=30,
                headers={"Authorization": f"Bearer {token}"},
            ) as client,
        ):
            paths = []
            for number, filters in enumerate(VARIANTS):
                created = await client.post(
                    "/v1/segments", json={"name": f"Bench {number}", "filters": filters}
                )
                if created.status_code != 201:
                    raise RuntimeError(f"POST /v1/segments: {created.status_code} {created.text}")
                paths.append(f"/v1/segments/{created.json()['id']}/profiles?limit={plan.page_size}")
            counts = []
            for path in paths:
                for _ in range(plan.warmups):
                    _, response = await _timed(client, path)
                counts.append(int(response.json()["count"]))
            samples: list[list[float]] = [[] for _ in paths]
            size = 0
            for n in range(plan.requests):
                which = n % len(paths)
                elapsed_ms, response = await _timed(client, paths[which])
                samples[which].append(elapsed_ms)
                size = max(size, len(response.content))
            disturbances = server.disturbances()
    finally:
        await delete_service_queues(run, SERVICE, settings)
    variants = []
    for filters, count, timings in zip(VARIANTS, counts, samples, strict=True):
        explained = await _explain(run, filters, keyring, plan.page_size)
        if explained["expected"] != count:
            raise RuntimeError(
                f"segment {filters}: the service counted {count}, SQL {explained['expected']}"
            )
        variants.append(Variant(filters, count, timings, explained["plans"]))
    return SegmentsResult(
        profiles=plan.profiles,
        tags=tags,
        tokens=tokens,
        seed_s=seed_s,
        index_s=index_s,
        samples_ms=[s for timings in samples for s in timings],
        variants=variants,
        response_bytes=size,
        disturbances=disturbances,
    )


def figures(result: SegmentsResult) -> list[Figure]:
    return [
        Figure(
            key="talentpool_segment_p95",
            title=f"GET /v1/segments/{{id}}/profiles, {result.profiles:,} profiles, three "
            f"filters and a Chinese text search, p95 of {len(result.samples_ms)}",
            unit="ms",
            ours=result.p95_ms,
            floor=None,
            target=TARGET_P95_MS,
            comparison="ours<",
        )
    ]


def details(result: SegmentsResult) -> dict[str, Any]:
    distribution = Distribution.of(result.samples_ms)
    return {
        "profiles": result.profiles,
        "tags": result.tags,
        "search_tokens": result.tokens,
        "seed_s": round(result.seed_s, 1),
        "index_s": round(result.index_s, 1),
        "p50_ms": round(distribution.p50, 1),
        "p95_ms": round(result.p95_ms, 1),
        "p99_ms": round(distribution.p99, 1),
        "max_ms": round(distribution.max, 1),
        "response_bytes": result.response_bytes,
        "variants": [
            {
                "filters": variant.filters,
                "count": variant.count,
                "median_ms": round(statistics.median(variant.samples_ms), 1),
                "p95_ms": round(percentile(sorted(variant.samples_ms), 95), 1),
                "plans": variant.plans,
            }
            for variant in result.variants
        ],
    }


async def _main(args: argparse.Namespace) -> int:
    from bench import environment, report

    run = BenchRun(admin_url=args.admin_database_url, amqp_url=args.amqp_url)
    print(f"bench run {run.run_id}: database {run.database}, broker namespace {run.namespace}")
    try:
        result = await measure(run, SegmentsPlan(profiles=args.profiles, requests=args.requests))
    finally:
        if not args.keep_data:
            await environment.drop_database(run)
            await environment.delete_namespace(run)
    print(report.table(figures(result)))
    found = details(result)
    for variant in found.pop("variants"):
        plans = variant.pop("plans")
        print(variant)
        if args.plans:
            for name, text in plans.items():
                print(f"--- {name}\n{text}")
    print(found)
    for disturbance in result.disturbances:
        print(f"DISTURBED: {disturbance}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.talentpool_segments")
    parser.add_argument("--profiles", type=int, default=SegmentsPlan.profiles)
    parser.add_argument("--requests", type=int, default=SegmentsPlan.requests)
    parser.add_argument("--plans", action="store_true", help="print the EXPLAIN ANALYZE plans")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument(
        "--admin-database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    import uvloop

    sys.exit(uvloop.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
