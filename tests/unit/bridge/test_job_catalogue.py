"""The job catalogue: each name is an entry point, each entry point has a name, old paths map on."""

from __future__ import annotations

import importlib
import inspect

from rq.utils import import_attribute

from bridge import jobs, schedule
from bridge.infra import jobnames

NAMES = {value for key, value in vars(jobnames).items() if key.isupper() and isinstance(value, str)}
NAMES.discard(jobnames._CATALOGUE)
ENTRY_POINTS = {
    f"bridge.jobs.{name}"
    for name, func in vars(jobs).items()
    if inspect.isfunction(func) and func.__module__ == "bridge.jobs" and not name.startswith("_")
}


def test_every_name_is_an_entry_point_of_the_catalogue_and_every_entry_point_has_a_name():
    assert NAMES == ENTRY_POINTS
    for name in NAMES:
        assert callable(import_attribute(name))


def test_every_old_path_maps_to_an_entry_point_and_no_old_path_still_imports():
    assert set(jobnames.LEGACY.values()) <= ENTRY_POINTS
    for old in jobnames.LEGACY:
        module, name = old.rsplit(".", 1)
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        assert not hasattr(found, name), f"{old} still exists: its jobs need no alias"


def test_periodic_jobs_are_catalogue_entry_points():
    for periodic in schedule.periodic_jobs():
        assert f"{periodic.func.__module__}.{periodic.func.__name__}" in ENTRY_POINTS


def test_job_ids_keep_their_formats():
    # Ids already stored in Redis and in `events.job_id` keep meaning the same job after an upgrade.
    assert jobnames.event_id(7) == "event-7"
    assert jobnames.code_id(3) == "code-3"
    assert jobnames.deliver_id(3) == "deliver-3"
    assert jobnames.rescore_shop_id(2, 5) == "rescore-2-5"
    assert jobnames.setup_shop_id(2) == "shopify-setup-2"
    assert jobnames.reconcile_shopify_id(2) == "reconcile-shopify-2"
    assert jobnames.consent_sync_id(9) == "consent-sync-9"
    assert jobnames.score_after_id("open", 3) == "rescore-open-3"
    assert jobnames.score_reply_id(1, "<a@b>") == jobnames.score_reply_id(1, "<a@b>")
    assert jobnames.score_reply_id(1, "<a@b>") != jobnames.score_reply_id(1, "<c@d>")
    assert jobnames.score_reply_id(1, "<a@b>").startswith("rescore-reply-1-")
