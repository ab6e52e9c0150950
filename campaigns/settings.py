"""Campaign settings: the merchant's JSON document, validated into a frozen value."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from campaigns.messages import DEFAULT_BODY, DEFAULT_SUBJECT
from campaigns.templating import MAX_TEMPLATE_CHARS, body_problems, template_problems

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in the shop's time zone, when no offer is sent; it may cross midnight."""

    start: time
    end: time


@dataclass(frozen=True)
class EmailTemplate:
    """The merchant's subject and body templates (plain text with {{ placeholders }})."""

    subject: str = DEFAULT_SUBJECT
    body: str = DEFAULT_BODY


@dataclass(frozen=True)
class CampaignSettings:
    """One shop's campaign settings; the defaults are DEFAULT_CAMPAIGN."""

    enabled: bool = True
    abandonment_delay_minutes: int = 60
    discount_kind: str = "percentage"
    discount_value: Decimal = Decimal(10)
    code_prefix: str = ""
    code_expiry_hours: int = 24
    frequency_cap_days: int = 7
    minimum_cart_value: Decimal = Decimal(0)
    require_consent: bool = True
    holdout_share: float = 0.10
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))
    timezone: str | None = (
        None  # None: the shop's own time zone (bridge.outreach.sweep.settings_for fills it in)
    )
    monthly_budget: Decimal | None = None
    hot_lead_offers: bool = True
    attribution_window_days: int = 7
    email: EmailTemplate = EmailTemplate()
    sender_name: str = ""
    webhook_url: str | None = None


DEFAULT_CAMPAIGN: dict[str, Any] = {
    "enabled": True,
    "abandonment_delay_minutes": 60,
    "discount_kind": "percentage",
    "discount_value": 10,
    "code_prefix": "",
    "code_expiry_hours": 24,
    "frequency_cap_days": 7,
    "minimum_cart_value": 0,
    "require_consent": True,
    "holdout_share": 0.1,
    "quiet_hours": {"start": "21:00", "end": "08:00"},
    "timezone": None,
    "monthly_budget": None,
    "hot_lead_offers": True,
    "attribution_window_days": 7,
    "email": {"subject": DEFAULT_SUBJECT, "body": DEFAULT_BODY},
    "sender_name": "",
    "webhook_url": None,
}


_DEFAULTS = CampaignSettings()


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


class EmailTemplateSchema(Schema):
    """Validates the subject and body templates so a broken one is refused before any send."""

    subject = fields.String(validate=validate.Length(1, 500))
    body = fields.String(validate=validate.Length(1, MAX_TEMPLATE_CHARS))

    @validates("subject")
    def _check_subject(self, value: str, **kwargs: Any) -> None:
        if problems := template_problems(value):
            raise ValidationError(problems)

    @validates("body")
    def _check_body(self, value: str, **kwargs: Any) -> None:
        if problems := body_problems(value):
            raise ValidationError(problems)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> EmailTemplate:
        return EmailTemplate(**data)


class CampaignSettingsSchema(Schema):
    """Validates a campaign document; missing fields take the defaults."""

    enabled = fields.Boolean()
    abandonment_delay_minutes = _whole(5, 10080)
    discount_kind = fields.String(validate=validate.OneOf(["percentage", "fixed_amount"]))
    discount_value = Amount()
    code_prefix = fields.String(
        validate=validate.Regexp(
            r"^([A-Za-z0-9]{1,8}-?)?\Z", error="Use up to 8 letters or digits, optionally followed by '-'."
        )
    )
    code_expiry_hours = _whole(1, 720)
    frequency_cap_days = _whole(0, 365)
    minimum_cart_value = Amount(validate=validate.Range(min=0))
    require_consent = fields.Boolean()
    holdout_share = fields.Float(validate=validate.Range(0, 0.5))
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    timezone = fields.String(allow_none=True)
    monthly_budget = Amount(allow_none=True, validate=validate.Range(min=0))
    hot_lead_offers = fields.Boolean()
    attribution_window_days = _whole(1, 90)
    email = fields.Nested(EmailTemplateSchema)
    sender_name = fields.String(
        validate=[validate.Length(max=100), validate.Regexp(r"^[^\r\n]*\Z", error="Use a single line.")]
    )
    webhook_url = fields.String(allow_none=True)

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
        if value is not None and not _is_allowed_webhook(value):
            raise ValidationError("Use an https:// address (http:// is allowed for localhost only).")

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _check_discount(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if any(name in original and name not in data for name in ("discount_kind", "discount_value")):
            return  # already reported as a field error
        kind = data.get("discount_kind", _DEFAULTS.discount_kind)
        value = data.get("discount_value", _DEFAULTS.discount_value)
        if kind == "fixed_amount" and value <= 0:
            raise ValidationError("A fixed discount must be more than 0.", "discount_value")
        if kind == "percentage" and not 1 <= value <= 100:
            raise ValidationError("A percentage discount must be between 1 and 100.", "discount_value")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> CampaignSettings:
        if "code_prefix" in data:
            data["code_prefix"] = data["code_prefix"].upper()
        return CampaignSettings(**data)


def _is_allowed_webhook(url: str) -> bool:
    """Return True for an https URL, or an http URL to this machine."""
    if len(url) > 2000 or not url.isprintable() or " " in url:
        return False  # urlsplit quietly drops tabs and newlines; we refuse them instead
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)


def load_campaign(doc: Mapping[str, Any]) -> CampaignSettings:
    """Validate a campaign document; raises marshmallow.ValidationError with per-field messages."""
    settings: CampaignSettings = CampaignSettingsSchema().load(doc)
    return settings


def load_stored_campaign(doc: Mapping[str, Any]) -> CampaignSettings:
    """A campaign document saved earlier, as `load_campaign` reads it, except that template checks added
    since it was saved do not refuse it: every job reads these settings (sweeps, decisions, attribution), and
    one template must not stop them all. Such a template still never runs unbounded: the sandbox's limits
    apply when it renders, which fails that offer with the reason."""
    try:
        return load_campaign(doc)
    except ValidationError as exc:
        email = doc.get("email")
        if set(exc.messages) != {"email"} or not isinstance(email, Mapping):
            raise
        settings = load_campaign({key: value for key, value in doc.items() if key != "email"})
        subject, body = email.get("subject", DEFAULT_SUBJECT), email.get("body", DEFAULT_BODY)
        if not (isinstance(subject, str) and isinstance(body, str)):
            raise
        return replace(settings, email=EmailTemplate(subject=subject, body=body))


def dump_campaign(settings: CampaignSettings) -> dict[str, Any]:
    """Return the JSON document of the settings (the inverse of load_campaign)."""
    document: dict[str, Any] = CampaignSettingsSchema().dump(settings)
    return document
