"""Jobs queued by the release before the job catalogue, under their functions' old paths, still run."""

from __future__ import annotations

from rq.job import JobStatus
from rq.utils import import_attribute

from bridge.infra import jobnames
from bridge.infra.queue import CAMPAIGNS, get_queue

ABSENT = 999_999  # ids of rows that do not exist: each job must finish with its "nothing to do" answer
ARGS: dict[str, tuple[object, ...]] = {
    "bridge.reconcile.reconcile_all": (),
    "bridge.reconcile.reconcile_shopify": (ABSENT,),
    "bridge.woo_reconcile.reconcile_all_woocommerce": (),
    "bridge.woo_reconcile.reconcile_woocommerce": (ABSENT,),
    "bridge.woo_reconcile.register_woo_webhooks": (ABSENT,),
    "bridge.woo_reconcile.unregister_woo_webhooks": (ABSENT,),
    "bridge.shopify_app.setup_shop": (ABSENT,),
    "bridge.rescore.rescore_shop": (ABSENT, 1),
    "bridge.rescore.resume_rescores": (),
    "bridge.retention.retention_job": (),
    "bridge.campaign.sweep_job": (),
    "bridge.campaign.abandon_carts": (ABSENT, [ABSENT], "2026-01-01T00:00:00+00:00"),
    "bridge.campaign.plan_cart_offers": ([ABSENT],),
    "bridge.campaign.plan_hot_offer": (ABSENT,),
    "bridge.campaign.create_code": (ABSENT,),
    "bridge.campaign.cleanup_expired": (),
    "bridge.delivery.deliver": (ABSENT,),
    "bridge.delivery.redeliver_job": (),
    "bridge.delivery.remove_code_job": (ABSENT,),
    "bridge.outbound.post_offer": (ABSENT,),
    "bridge.jobs.rescore_leads": (ABSENT, [ABSENT], "opened offer 1"),
    "bridge.jobs.resume_rescores": (),
    "bridge.jobs.plan_cart_offers": ([ABSENT],),
    "bridge.jobs.plan_hot_offer": (ABSENT,),
}


def test_every_old_path_is_tried():
    assert set(ARGS) == set(jobnames.LEGACY)


def test_a_job_queued_under_an_old_path_runs_the_catalogue_entry_point(ctx, run_jobs):
    queue = get_queue(ctx.redis, CAMPAIGNS)
    queued = {
        old: queue.enqueue(old, *args, job_id=f"legacy-{n}") for n, (old, args) in enumerate(ARGS.items())
    }
    expected = {
        old: import_attribute(jobnames.LEGACY[old])(*ARGS[old]) for old in ARGS
    }  # today's entry point
    run_jobs()
    for old, job in queued.items():
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, (old, job.latest_result())
        assert job.return_value() == expected[old], old
