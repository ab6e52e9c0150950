"""Admin page timings on PostgreSQL: each page (server time) beside its main query alone.

Run from the repository root: `.venv/bin/python -m bench.admin [--leads 100000] [--activities 10]`.
Creates the database `relance_bench_admin` with one large shop (N leads, N x M activities, N carts, an
offer for every abandoned cart, events, score changes, 90 days of tier snapshots) and a small second
shop, so every query has to filter by shop. Pages are requested through the Flask test client (no
network: server time), signed in as the large shop's user; each figure is the median of `--repeat`
runs after one warm-up. Target: every page under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import g

from bench.common import recreate_database
from bridge import wiring
from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Activity, Event, Lead
from bridge.infra.settings import Settings
from bridge.leads import rules
from bridge.outreach import results
from bridge.shops import users
from bridge.shops.registry import create_shop

PG_SERVER = os.environ.get("RELANCE_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "relance_bench_admin"
PASSWORD = "bench password 123"
TARGET_MS = 200.0
AGO = "now() - (l.id % 2160) * interval '1 hour'"  # carts spread over 90 days
FILL = [
    """INSERT INTO leads (shop_id, email, first_name, country, accepts_marketing, source, created_at,
            last_activity_at, is_customer, orders_count, score, tier, score_computed_at, breakdown)
       SELECT :shop, 'lead' || g || '@example.com', 'Lead', (ARRAY['FR','BE','US','DE'])[1 + g % 4],
              g % 3 <> 0, '{}'::jsonb, now() - (g % 90) * interval '1 day',
              now() - (g % 30) * interval '1 hour', g % 10 = 0, (g % 10 = 0)::int, g % 101,
              CASE WHEN g % 10 = 0 THEN 'customer' WHEN g % 101 >= 80 THEN 'hot'
                   WHEN g % 101 >= 40 THEN 'warm' ELSE 'cold' END, now(),
              jsonb_build_object('raw', g % 101, 'lines', jsonb_build_array(jsonb_build_object(
                'rule', 'activity:add_to_cart', 'label', 'Added to cart', 'count', 2,
                'points_before', 30, 'points', 28.5)))
       FROM generate_series(1, :leads) AS g""",
    """INSERT INTO activities (shop_id, lead_id, kind, occurred_at, ref)
       SELECT :shop, l.id, (ARRAY['product_view', 'product_view', 'product_view', 'add_to_cart',
              'checkout_started', 'email_open', 'email_click', 'account_created'])[1 + (a + l.id) % 8],
              now() - ((a * 7 + l.id) % 2160) * interval '1 hour', a::text
       FROM leads AS l CROSS JOIN generate_series(1, :per) AS a WHERE l.shop_id = :shop""",
    f"""INSERT INTO carts (shop_id, lead_id, cart_token, checkout_token, email, currency, subtotal, items,
            source, created_at, last_activity_at, status, abandoned_at, converted_at, order_id, order_total)
       SELECT :shop, l.id, 'cart-' || l.id, 'co-' || l.id, l.email, 'EUR', 20 + l.id % 180,
              '{{"lines": [{{"title": "Linen shirt", "quantity": 1, "price": "49.00"}}]}}'::jsonb,
              jsonb_build_object('utm_source',
                (ARRAY['google', 'instagram', 'newsletter', 'facebook', 'tiktok'])[1 + l.id % 5]),
              {AGO}, {AGO} + interval '10 min',
              s.status,
              CASE WHEN s.status IN ('abandoned', 'recovered')
                   THEN {AGO} + interval '90 min' END,
              CASE WHEN s.status IN ('recovered', 'converted')
                   THEN {AGO} + interval '5 hour' END,
              CASE WHEN s.status IN ('recovered', 'converted') THEN 'o' || l.id END,
              CASE WHEN s.status IN ('recovered', 'converted') THEN 20 + l.id % 180 END
       FROM leads AS l CROSS JOIN LATERAL (SELECT (ARRAY['active', 'abandoned', 'abandoned', 'abandoned',
              'recovered', 'converted', 'converted', 'converted', 'expired', 'abandoned'])[1 + l.id % 10]
              AS status) AS s
       WHERE l.shop_id = :shop""",
    """INSERT INTO offers (shop_id, lead_id, cart_id, reason, code, kind, value, currency, starts_at,
            expires_at, status, holdout, decision, created_at, sent_at, redeemed_at, order_total, attempts,
            cost, recipient)
       SELECT c.shop_id, c.lead_id, c.id, 'abandoned_cart', CASE WHEN c.id % 10 <> 3 THEN 'RLB' || c.id END,
              'percentage', 10, 'EUR', c.abandoned_at, c.abandoned_at + interval '24 hour',
              CASE WHEN c.id % 10 = 3 THEN 'suppressed' WHEN c.status = 'recovered' THEN 'redeemed'
                   ELSE (ARRAY['sent','expired'])[1 + c.id % 2] END,
              c.id % 10 = 3, 'offer', c.abandoned_at, CASE WHEN c.id % 10 <> 3 THEN c.abandoned_at END,
              CASE WHEN c.status = 'recovered' AND c.id % 10 <> 3 THEN c.converted_at END,
              CASE WHEN c.status = 'recovered' THEN c.order_total END, 1, c.subtotal * 0.1, c.email
       FROM carts AS c WHERE c.shop_id = :shop AND c.abandoned_at IS NOT NULL""",
    """INSERT INTO events (shop_id, topic, delivery_key, received_at, payload, status, attempts, available_at,
            processed_at, error)
       SELECT :shop, (ARRAY['carts/update','checkouts/update','orders/create','customers/create'])[1 + g % 4],
              'bench-' || g, now() - (g % 2160) * interval '1 hour', '{}',
              CASE WHEN g % 500 = 0 THEN 'failed' ELSE 'processed' END, 1, now(), now(),
              CASE WHEN g % 500 = 0 THEN 'PayloadError: token is missing' END
       FROM generate_series(1, :leads) AS g""",
    """INSERT INTO score_changes (lead_id, at, old_score, new_score, old_tier, new_tier, reason)
       SELECT l.id, now() - (k * 5 + l.id % 100) * interval '1 hour', 10 * k, 10 * k + 15, 'cold', 'cold',
              'bench'
       FROM leads AS l CROSS JOIN generate_series(1, 2) AS k WHERE l.shop_id = :shop""",
    """INSERT INTO tier_snapshots (shop_id, day, counts)
       SELECT :shop, current_date - d, jsonb_build_object('cold', 50000 + d * 10, 'warm', 25000 - d * 5,
              'hot', 5000 + d, 'customer', 10000 - d)
       FROM generate_series(0, 89) AS d""",
]


def fresh_database() -> str:
    """Drop and create the bench database; returns its URL."""
    return recreate_database(f"{PG_SERVER}/{DATABASE}")


def populate(ctx: wiring.Context, leads: int, per_lead: int) -> int:
    """The large shop (and a small one), generated inside PostgreSQL; the large shop's id."""
    ids = []
    for domain, size in (("small.myshopify.com", max(leads // 20, 10)), ("bench.myshopify.com", leads)):
        with transaction(ctx.sessions) as session:
            shop = create_shop(session, ctx.vault, platform="shopify", domain=domain, now=ctx.now()).shop
            users.create_user(session, f"owner@{domain}", PASSWORD, shop.id, ctx.now())
            ids.append(shop.id)
        with ctx.engine.begin() as conn:
            for statement in FILL:
                conn.execute(sa.text(statement), {"shop": shop.id, "leads": size, "per": per_lead})
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return ids[-1]


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    """Median wall time of `run` in milliseconds, after one warm-up."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main_queries(app: Any, ctx: wiring.Context, shop_id: int) -> dict[str, Callable[[], Any] | None]:
    """Each page's main query, built by the page's own code where it has a builder (None: the page alone)."""
    from admin_ui import commerce, events, leads
    from admin_ui.access import Principal

    def scoped(build: Callable[[], Any], scalars: bool = True) -> Callable[[], Any]:
        def run() -> Any:
            with app.test_request_context("/admin/"), ctx.sessions() as session:
                g.principal = Principal(shop_id=shop_id, actor="bench")
                query = build()
                return (session.scalars(query) if scalars else session.execute(query)).all()

        return run

    with ctx.sessions() as session:
        lead_id = session.scalar(sa.select(sa.func.max(Lead.id)).where(Lead.shop_id == shop_id))
        after = session.execute(
            sa.select(Lead.score, Lead.id)
            .where(Lead.shop_id == shop_id)
            .order_by(Lead.score.desc())
            .offset(2500)
        ).first()
    assert after is not None, "too few leads for a second page"
    cursor = (int(after[0]), int(after[1]))

    def overview(days: int) -> Callable[[], Any]:
        def run() -> Any:
            with ctx.sessions() as session:
                now = ctx.now()
                start = now - timedelta(days=days)
                return results.compute(session, shop_id, start, now, by_source_field=False)

        return run

    def lead_activities() -> Any:
        with ctx.sessions() as session:
            query = (
                sa.select(Activity).where(Activity.lead_id == lead_id).order_by(Activity.occurred_at.desc())
            )
            return session.scalars(query.limit(100)).all()

    def rules_page() -> Any:
        with ctx.sessions() as session:
            return rules.current(session, shop_id), rules.history(session, shop_id, limit=5)

    def health() -> Any:
        with ctx.sessions() as session:
            pending = sa.select(sa.func.min(Event.received_at)).where(
                Event.shop_id == shop_id, Event.status == "pending"
            )
            return session.scalar(pending)

    return {
        "/admin/": overview(30),
        "/admin/?days=90": overview(90),
        "/admin/rules": rules_page,
        "/admin/leads": scoped(lambda: leads.lead_page("", "", None)),
        "/admin/leads?tier=hot": scoped(lambda: leads.lead_page("", "hot", None)),
        "/admin/leads?email=lead777": scoped(lambda: leads.lead_page("lead777", "", None)),
        "/admin/leads?email=lead777@example.com": scoped(
            lambda: leads.lead_page("lead777@example.com", "", None)
        ),
        f"/admin/leads?after={cursor[0]}.{cursor[1]}": scoped(lambda: leads.lead_page("", "", cursor)),
        f"/admin/leads/{lead_id}": lead_activities,
        "/admin/carts": scoped(lambda: commerce.cart_page("", None)),
        "/admin/carts?status=recovered": scoped(lambda: commerce.cart_page("recovered", None)),
        "/admin/offers": scoped(lambda: commerce.offer_page("", None), scalars=False),
        "/admin/offers?status=redeemed": scoped(lambda: commerce.offer_page("redeemed", None), scalars=False),
        "/admin/events": scoped(lambda: events.event_page("", "", None), scalars=False),
        "/admin/events?status=failed": scoped(lambda: events.event_page("failed", "", None), scalars=False),
        "/admin/health": health,
        # Pages of the journeys, lead-management and measurement issues: timed as pages only.
        "/admin/journeys": None,
        "/admin/money": None,
        "/admin/segments": None,
        "/admin/prospects": None,
        "/admin/alerts": None,
        "/admin/rules/history": None,
    }


def bench(leads: int, per_lead: int, repeat: int, keep: bool) -> bool:
    """Fill the database, time every page and its main query; True when every page meets the target."""
    started = time.perf_counter()
    url = fresh_database()
    instance = tempfile.mkdtemp(prefix="relance-bench-admin-")
    settings = Settings(
        database_url=url,
        secret_key="bench",
        encryption_keys=(Fernet.generate_key().decode(),),
        instance_path=instance,
        public_url="http://127.0.0.1:5000",
    )
    ctx = wiring.build(settings)
    try:
        shop_id = populate(ctx, leads, per_lead)
        print(
            f"stored {leads:,} leads, {leads * per_lead:,} activities, {leads:,} carts in "
            f"{time.perf_counter() - started:.0f} s"
        )
        app = create_app(settings, ctx=ctx)
        client = app.test_client()
        token = (
            client.get("/admin/login")
            .get_data(as_text=True)
            .split('name="csrf_token" value="')[1]
            .split('"')[0]
        )
        signed = client.post(
            "/admin/login",
            data={"email": "owner@bench.myshopify.com", "password": PASSWORD, "csrf_token": token},
        )
        assert signed.status_code == 302, "sign-in failed"
        ok = True
        print(f"\n{'page':<44} {'page ms':>9} {'query ms':>9}  status")
        for path, query in main_queries(app, ctx, shop_id).items():
            status = client.get(path).status_code
            page = median_ms(partial(client.get, path), repeat)
            alone = f"{median_ms(query, repeat):>9.1f}" if query is not None else f"{'-':>9}"
            ok &= status == 200 and page < TARGET_MS
            verdict = "ok" if status == 200 and page < TARGET_MS else f"SLOW (HTTP {status})"
            print(f"{path[:44]:<44} {page:>9.1f} {alone}  {verdict}")
        print(f"\ntarget: every page under {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
        return ok
    finally:
        ctx.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)
        if not keep:
            admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000, help="leads (and carts) of the large shop")
    parser.add_argument("--activities", type=int, default=10, help="activities per lead")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    return 0 if bench(args.leads, args.activities, args.repeat, args.keep) else 1


if __name__ == "__main__":
    raise SystemExit(main())
