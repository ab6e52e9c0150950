"""The pure campaign core: offer policy, holdout, codes, settings, messages and metrics."""

from campaigns.codes import ALPHABET, generate_code, offer_window
from campaigns.formatting import format_discount, format_expiry, format_money, zone_or_utc
from campaigns.holdout import holdout_key, in_holdout
from campaigns.messages import (
    DEFAULT_BODY,
    DEFAULT_SUBJECT,
    MessageContext,
    MessageItem,
    RenderedMessage,
    render_offer_message,
)
from campaigns.metrics import Comparison, recovery_comparison, redemption_rate, wilson_interval
from campaigns.policy import (
    LIVE_STATUSES,
    SKIP_REASONS,
    CartView,
    Decision,
    LeadView,
    OfferView,
    budget_month_start,
    decide,
    estimate_cost,
    quiet_hours_end,
    quiet_until,
)
from campaigns.settings import (
    DEFAULT_CAMPAIGN,
    CampaignSettings,
    CampaignSettingsSchema,
    EmailTemplate,
    QuietHours,
    dump_campaign,
    load_campaign,
    load_stored_campaign,
)
from campaigns.templating import PLACEHOLDERS, TemplateProblem, check_template

__all__ = [
    "ALPHABET",
    "DEFAULT_BODY",
    "DEFAULT_CAMPAIGN",
    "DEFAULT_SUBJECT",
    "LIVE_STATUSES",
    "PLACEHOLDERS",
    "SKIP_REASONS",
    "CampaignSettings",
    "CampaignSettingsSchema",
    "CartView",
    "Comparison",
    "Decision",
    "EmailTemplate",
    "LeadView",
    "MessageContext",
    "MessageItem",
    "OfferView",
    "QuietHours",
    "RenderedMessage",
    "TemplateProblem",
    "budget_month_start",
    "check_template",
    "decide",
    "dump_campaign",
    "estimate_cost",
    "format_discount",
    "format_expiry",
    "format_money",
    "generate_code",
    "holdout_key",
    "in_holdout",
    "load_campaign",
    "load_stored_campaign",
    "offer_window",
    "quiet_hours_end",
    "quiet_until",
    "recovery_comparison",
    "redemption_rate",
    "render_offer_message",
    "wilson_interval",
    "zone_or_utc",
]
