"""Campaign settings: the merchant's JSON document, validated into a frozen value."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in the shop's time zone, when no offer is sent; it may cross midnight."""

    start: time
    end: time


@dataclass(frozen=True)
class Pressure:
    """Commercial pressure across a lead's journeys: at most `max_emails` in any `window_days`, and
    `min_gap_hours` between emails of two different runs (a run's own steps are spaced by their offsets)."""

    max_emails: int = 3
    window_days: int = 7
    min_gap_hours: int = 12


@dataclass(frozen=True)
class CampaignSettings:
    """One shop's campaign settings; the defaults are DEFAULT_CAMPAIGN."""

    enabled: bool = True
    abandonment_delay_minutes: int = 60
    code_prefix: str = ""
    require_consent: bool = True
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))
    timezone: str | None = (
        None  # None: the shop's own time zone (bridge.leads.rules.campaign_settings_for fills it in)
    )
    monthly_budget: Decimal | None = None
    attribution_window_days: int = 7
    pressure: Pressure | None = Pressure()
    sender_name: str = ""
    locale: str = "fr"  # the merchant's language: the last fallback of a customer's locale
    logo_url: str | None = None
    brand_color: str = "#1f2937"
    webhook_url: str | None = None
    # Send a code step without its code once its 30-day incremental net revenue is surely below zero
    # (bridge.outreach.advice); off, the overview only suggests it.
    drop_unprofitable_codes: bool = False
    # The shop's gross margin on what its orders bring in (0-1): (price - cost of goods) / price. None:
    # unknown, and the ROI stays unknown too; a made-up default would print a confident ROI that nobody
    # measured, so the merchant states it (bridge.outreach.economics).
    margin_rate: Decimal | None = None


DEFAULT_CAMPAIGN: dict[str, Any] = {
    "enabled": True,
    "abandonment_delay_minutes": 60,
    "code_prefix": "",
    "require_consent": True,
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "timezone": None,
    "monthly_budget": None,
    "attribution_window_days": 7,
    "pressure": {"max_emails": 3, "window_days": 7, "min_gap_hours": 12},
    "sender_name": "",
    "locale": "fr",
    "logo_url": None,
    "brand_color": "#1f2937",
    "webhook_url": None,
    "drop_unprofitable_codes": False,
    "margin_rate": None,
}
# Campaign fields of the single-offer era and where they live now (a PUT naming one gets a 422 saying so;
# a stored document holding them is converted into journeys when read: campaigns.journey_upgrade).
MOVED_FIELDS = {
    "discount_kind": "journeys[].steps[].offer.kind",
    "discount_value": "journeys[].steps[].offer.value",
    "code_expiry_hours": "journeys[].steps[].offer.expires_hours",
    "minimum_cart_value": "journeys[].steps[].offer.minimum_order",
    "holdout_share": "journeys[].holdout_share",
    "hot_lead_offers": "a journey with trigger 'tier_entered' and tier 'hot'",
    "frequency_cap_days": "campaign.pressure (max_emails, window_days, min_gap_hours)",
    "email": "journeys[].steps[].messages.<locale> (subject, body)",
}


class Amount(fields.Decimal):
    """A finite decimal read from a JSON number or string, written back as a JSON number."""

    def _format_num(self, value: Any) -> Decimal:
        # str() first: Decimal(0.1) would keep the float's binary noise.
        return Decimal(str(value))

    def _validated(self, value: Any) -> Decimal:
        number = super()._validated(value)
        if not number.is_finite():
            raise self.make_error("special")
        if number.adjusted() >= 12:  # "1E+999999999" is finite, but dumping it as an int would not end
            raise self.make_error("too_large")
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return int(value) if value == value.to_integral_value() else float(value)


def _whole(low: int, high: int) -> fields.Integer:
    """Return a strict integer field limited to low..high."""
    return fields.Integer(strict=True, validate=validate.Range(low, high))


_CLOCK_ERRORS: dict[str, Any] = {"invalid": "Use a 24-hour time such as 21:00."}


class QuietHoursSchema(Schema):
    """Validates {"start": "HH:MM", "end": "HH:MM"}."""

    start = fields.Time(format="%H:%M", required=True, error_messages=_CLOCK_ERRORS)
    end = fields.Time(format="%H:%M", required=True, error_messages=_CLOCK_ERRORS)

    @validates_schema
    def _distinct(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["start"] == data["end"]:
            raise ValidationError("The quiet hours must end at another time than they start.", "end")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> QuietHours:
        return QuietHours(**data)


class PressureSchema(Schema):
    """Validates the per-lead limits across journeys."""

    max_emails = _whole(1, 50)
    window_days = _whole(1, 90)
    min_gap_hours = _whole(0, 24 * 14)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Pressure:
        return Pressure(**data)


class CampaignSettingsSchema(Schema):
    """Validates a campaign document; missing fields take the defaults."""

    enabled = fields.Boolean()
    abandonment_delay_minutes = _whole(5, 10080)
    code_prefix = fields.String(
        validate=validate.Regexp(
            r"^([A-Za-z0-9]{1,8}-?)?\Z", error="Use up to 8 letters or digits, optionally followed by '-'."
        )
    )
    require_consent = fields.Boolean()
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    timezone = fields.String(allow_none=True)
    monthly_budget = Amount(allow_none=True, validate=validate.Range(min=0))
    attribution_window_days = _whole(1, 90)
    pressure = fields.Nested(PressureSchema, allow_none=True)
    locale = fields.String(
        validate=validate.Regexp(
            r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?\Z",
            error="Use a language tag such as fr or fr-CA.",
        )
    )
    logo_url = fields.String(allow_none=True, validate=validate.Length(max=2000))
    brand_color = fields.String(
        validate=validate.Regexp(r"^#[0-9a-fA-F]{6}\Z", error="Use a colour such as #1f2937.")
    )
    sender_name = fields.String(
        validate=[validate.Length(max=100), validate.Regexp(r"^[^\r\n]*\Z", error="Use a single line.")]
    )
    webhook_url = fields.String(allow_none=True)
    drop_unprofitable_codes = fields.Boolean()
    margin_rate = Amount(
        allow_none=True,
        validate=validate.Range(min=0, max=1, error="Use a share between 0 and 1, such as 0.4 for 40 %."),
    )

    @validates("timezone")
    def _check_timezone(self, value: str | None, **kwargs: Any) -> None:
        if value is None:
            return
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"Unknown time zone {value!r}; use a name such as Europe/Paris.") from None

    @validates("webhook_url")
    def _check_webhook_url(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and not _is_allowed_url(value, local_http=True):
            raise ValidationError("Use an https:// address (http:// is allowed for localhost only).")

    @validates("logo_url")
    def _check_logo(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and not _is_allowed_url(value, local_http=False):
            raise ValidationError("Use an https:// address for the logo (emails load it from there).")

    @pre_load
    def _set_moved_aside(self, data: Any, **kwargs: Any) -> Any:
        # A moved field is not an unknown one: _check_moved names its new place instead.
        if isinstance(data, Mapping) and any(name in data for name in MOVED_FIELDS):
            return {key: value for key, value in data.items() if key not in MOVED_FIELDS}
        return data

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _check_moved(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        moved = {
            name: [f"Moved: set it in {place}."]
            for name, place in MOVED_FIELDS.items()
            if isinstance(original, Mapping) and name in original
        }
        if moved:
            raise ValidationError(moved)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> CampaignSettings:
        if "code_prefix" in data:
            data["code_prefix"] = data["code_prefix"].upper()
        return CampaignSettings(**data)


def _is_allowed_url(url: str, *, local_http: bool) -> bool:
    """Return True for an https URL, or (local_http) an http URL to this machine."""
    if len(url) > 2000 or not url.isprintable() or " " in url:
        return False  # urlsplit quietly drops tabs and newlines; we refuse them instead
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (local_http and parts.scheme == "http" and host in LOCAL_HOSTS)


def load_campaign(doc: Mapping[str, Any]) -> CampaignSettings:
    """Validate a campaign document; raises marshmallow.ValidationError with per-field messages (a field of
    the single-offer era says where it moved)."""
    settings: CampaignSettings = CampaignSettingsSchema().load(doc)
    return settings


def load_stored_campaign(doc: Mapping[str, Any]) -> CampaignSettings:
    """A campaign document saved earlier: fields of the single-offer era are left to the journeys'
    conversion (campaigns.journey_upgrade) and ignored here."""
    return load_campaign({key: value for key, value in doc.items() if key not in MOVED_FIELDS})


def dump_campaign(settings: CampaignSettings) -> dict[str, Any]:
    """Return the JSON document of the settings (the inverse of load_campaign)."""
    document: dict[str, Any] = CampaignSettingsSchema().dump(settings)
    return document
