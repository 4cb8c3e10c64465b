"""/healthz and /metrics: served when NEWSBRIEF_METRICS_LISTEN asks, read by real HTTP."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import asyncpg
import httpx
import pytest

from bot.app.observe import PrometheusMetrics, listen_address
from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.errors import ConfigError
from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Databases
from tests.harness import rss


@pytest.fixture
def settings(tmp_path: Path, server: LocalServer) -> Settings:
    """A bot on the console with one loopback feed, metrics on a free loopback port."""
    text = "The harbour strike ended on Monday after talks through the night. " * 6
    url = server.route("/feed.xml", rss([("a", "Strike over", text)]))
    (tmp_path / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{url}"\nbackfill = 1\n[[channels]]\nto = "console"\n'
    )
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(tmp_path / "newsbrief.toml"),
        "NEWSBRIEF_ALLOW_PRIVATE_HOSTS": "1",
        "NEWSBRIEF_METRICS_LISTEN": "127.0.0.1:0",
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_listen_address_defaults_to_loopback() -> None:
    """host:port, :port and a bare port; anything else is a clear config error."""
    assert listen_address("0.0.0.0:9108") == ("0.0.0.0", 9108)
    assert listen_address(":9108") == ("127.0.0.1", 9108)
    assert listen_address("9108") == ("127.0.0.1", 9108)
    for bad in ("", "host:", "host:http", ":70000"):
        with pytest.raises(ConfigError, match="NEWSBRIEF_METRICS_LISTEN"):
            listen_address(bad)


def test_metrics_with_wrong_labels_never_raise() -> None:
    """A metric named wrongly or labelled wrongly is ignored, never a crash."""
    metrics = PrometheusMetrics()
    metrics.inc("newsbrief_no_such_metric")
    metrics.inc("newsbrief_feed_fetches_total", colour="blue")
    metrics.inc("newsbrief_feed_fetches_total", result="ok")
    assert b'newsbrief_feed_fetches_total{result="ok"} 1.0' in metrics.render()


async def test_metrics_count_the_work_and_healthz_answers(settings: Settings) -> None:
    """After a pass, /metrics shows the fetch, the stored article, the sent post and its
    latency; /healthz is 200 while the store answers and 503 with the reason once not."""
    async with Runtime.build(settings, clock=ManualClock(), stdout=io.StringIO()) as runtime:
        base = f"http://127.0.0.1:{runtime.observe_port}"
        await runtime.pass_once()
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{base}/metrics")).text
            healthy = await client.get(f"{base}/healthz")
            await runtime.store.close()
            sick = await client.get(f"{base}/healthz")
    assert 'newsbrief_feed_fetches_total{result="ok"} 1.0' in metrics
    assert "newsbrief_articles_stored_total 1.0" in metrics
    assert 'newsbrief_outbox_rows{platform="console",state="sent"} 1.0' in metrics
    assert 'newsbrief_sends_total{platform="console",result="ok"} 1.0' in metrics
    assert 'newsbrief_delivery_seconds_count{platform="console"} 1.0' in metrics
    assert 'newsbrief_feeds{state="active"} 1.0' in metrics
    assert 'newsbrief_leases_held{kind="outbox"} 0.0' in metrics  # nothing in flight
    assert 'newsbrief_leases_held{kind="locks"}' in metrics
    assert (healthy.status_code, healthy.text.strip()) == (200, "ok")
    assert sick.status_code == 503 and sick.text.startswith("store unreachable")


async def test_healthz_names_a_loop_that_stopped(settings: Settings) -> None:
    """A worker whose loop died is unhealthy, and /healthz says which loop."""
    async with Runtime.build(settings, clock=ManualClock(), stdout=io.StringIO()) as runtime:
        dead = asyncio.get_running_loop().create_future()
        dead.set_result(None)
        runtime.loops = {"scheduler": dead}  # type: ignore[dict-item]
        report = await runtime.check_health()
    assert (report.ok, report.reason) == (False, "stopped: scheduler")


async def _admin(postgres: Databases, sql: str) -> None:
    conn = await asyncpg.connect(postgres.cluster.url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_healthz_is_503_while_postgresql_refuses_and_200_once_back(
    settings: Settings, postgres: Databases
) -> None:
    """On PostgreSQL, /healthz answers 503 naming the store while the database refuses
    connections (the pool's cut, new ones refused), and 200 again once it accepts them."""
    url = await postgres.fresh()
    name = url.rsplit("/", 1)[1]
    settings = settings.replace(db=url)
    async with Runtime.build(settings, clock=ManualClock(), stdout=io.StringIO()) as runtime:
        base = f"http://127.0.0.1:{runtime.observe_port}"
        async with httpx.AsyncClient() as client:
            healthy = await client.get(f"{base}/healthz")
            await _admin(postgres, f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await _admin(
                postgres,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
            )
            sick = [await client.get(f"{base}/healthz") for _ in range(2)]
            await _admin(postgres, f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            back = await client.get(f"{base}/healthz")
    assert (healthy.status_code, healthy.text.strip()) == (200, "ok")
    for answer in sick:
        assert answer.status_code == 503
        assert answer.text.startswith("store unreachable: database error:"), answer.text
    assert "not currently accepting connections" in sick[1].text
    assert (back.status_code, back.text.strip()) == (200, "ok")


async def test_healthz_is_503_when_the_store_does_not_answer_in_time(
    settings: Settings, postgres: Databases
) -> None:
    """A store that hangs (a table locked by another session) makes /healthz answer 503
    "store unreachable: timed out" after HEALTH_TIMEOUT, not hang with it."""
    url = await postgres.fresh()
    settings = settings.replace(db=url)
    async with Runtime.build(settings, clock=ManualClock(), stdout=io.StringIO()) as runtime:
        base = f"http://127.0.0.1:{runtime.observe_port}"
        blocker = await asyncpg.connect(url)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                async with blocker.transaction():
                    await blocker.execute("LOCK TABLE feeds IN ACCESS EXCLUSIVE MODE")
                    hung = await client.get(f"{base}/healthz")
                back = await client.get(f"{base}/healthz")
        finally:
            await blocker.close()
    assert (hung.status_code, hung.text.strip()) == (503, "store unreachable: timed out")
    assert back.status_code == 200
