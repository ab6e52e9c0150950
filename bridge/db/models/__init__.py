"""The database's tables as SQLAlchemy 2 models (DESIGN §5), one module per part of the domain; every model
and constant is importable from here: `from bridge.db.models import Shop`."""

from __future__ import annotations

from bridge.db.models.alerts import ALERT_CHANNELS, DELIVERY_STATUSES, AlertDelivery, AlertSecret
from bridge.db.models.base import NAMING, Base
from bridge.db.models.carts import CART_STATUSES, Cart, Order
from bridge.db.models.events import EVENT_STATUSES, Event
from bridge.db.models.journeys import RUN_DUE, RUN_STATUSES, JourneyRun
from bridge.db.models.leads import TIERS, Activity, Lead, PrivacyExport, ScoreChange, TierSnapshot
from bridge.db.models.money import SourceSpend
from bridge.db.models.offers import CODE_DEAD, OFFER_STATUSES, REMOVAL_DUE, Offer
from bridge.db.models.products import PRODUCT_ACTIONS, LeadProduct, LeadProductRef, Product
from bridge.db.models.prospects import (
    OPEN_STATUSES,
    PROSPECT_STATUSES,
    Prospect,
    ProspectEvent,
)
from bridge.db.models.rules import RescoreRun, Ruleset
from bridge.db.models.shops import AdminUser, AuditLog, Nonce, Shop
from bridge.db.models.visitors import Visitor, VisitorEvent, VisitorToken

__all__ = [
    "ALERT_CHANNELS",
    "CART_STATUSES",
    "CODE_DEAD",
    "DELIVERY_STATUSES",
    "EVENT_STATUSES",
    "NAMING",
    "OFFER_STATUSES",
    "OPEN_STATUSES",
    "PRODUCT_ACTIONS",
    "PROSPECT_STATUSES",
    "REMOVAL_DUE",
    "RUN_DUE",
    "RUN_STATUSES",
    "TIERS",
    "Activity",
    "AdminUser",
    "AlertDelivery",
    "AlertSecret",
    "AuditLog",
    "Base",
    "Cart",
    "Event",
    "JourneyRun",
    "Lead",
    "LeadProduct",
    "LeadProductRef",
    "Nonce",
    "Offer",
    "Order",
    "PrivacyExport",
    "Product",
    "Prospect",
    "ProspectEvent",
    "RescoreRun",
    "Ruleset",
    "ScoreChange",
    "Shop",
    "SourceSpend",
    "TierSnapshot",
    "Visitor",
    "VisitorEvent",
    "VisitorToken",
]
