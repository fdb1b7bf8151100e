"""Open311 GeoReport v2: what the standard door serves and remembers, all edited in the admin.

- ``Endpoint``: a jurisdiction served (the ``jurisdiction_id`` clients send → a city or county subtree).
- ``ServiceSetting``: per category, how it is offered as a service (listed, private, realtime/batch …).
  A category without a row is a listed, public, realtime service.
- ``ServiceAttribute`` / ``AttributeValue``: the category's extra questions (service definition).
- ``ApiKey``: a client's key (only its SHA-256 is stored), scoped to one endpoint, rate-limited per minute
  through ``RateWindow`` counters kept in the database (so the limit holds across server processes).
- ``ServiceRequest``: the Open311 side of a case taken in through this door or imported in Open311 form
  (token, the client's own fields, answers to the extra questions).

Cases themselves are written only by the case actions; these rows point at them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Nature
from civicgrid.core.fields import EncryptedTextField


class Endpoint(models.Model):
    code = models.CharField(  # what clients send as jurisdiction_id (that name clashes with the FK's column)
        "jurisdiction_id",
        max_length=64,
        help_text=_("What clients send as jurisdiction_id, e.g. the division code 430100 or a domain name."),
    )
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("jurisdiction"),
        help_text=_("Requests are taken in and published for this jurisdiction and everything under it."),
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    default_nature = models.CharField(
        _("nature of posted requests"), max_length=16, choices=Nature.choices, default=Nature.HELP
    )
    publish_requests = models.BooleanField(
        _("publish requests"),
        default=True,
        help_text=_(
            "Off: GET requests shows a client only the requests it posted itself (with its key). Reports "
            "of wrongdoing (举报) and private services are never published."
        ),
    )
    contact = models.CharField(
        _("contact"), max_length=200, blank=True, help_text=_("Shown in service discovery.")
    )
    key_service = models.CharField(
        _("where to ask for a key"), max_length=200, blank=True, help_text=_("Shown in service discovery.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 endpoint")
        verbose_name_plural = _("Open311 endpoints")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code"], name="open311_endpoint_code_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ServiceType(models.TextChoices):
    REALTIME = "realtime", _("realtime (the request id at once)")
    BATCH = "batch", _("batch (a token, exchanged for the id later)")
    BLACKBOX = "blackbox", _("blackbox (no id returned)")


class ServiceSetting(models.Model):
    category = models.OneToOneField(
        "cases.Category", on_delete=models.CASCADE, related_name="open311", verbose_name=_("category")
    )
    is_listed = models.BooleanField(
        _("offered to clients"),
        default=True,
        help_text=_(
            "Off: not in the service list, and requests cannot be posted to it (nor to its children)."
        ),
    )
    is_private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_("Requests of this category (and its children) are never published through GET requests."),
    )
    service_type = models.CharField(
        _("type"), max_length=16, choices=ServiceType.choices, default=ServiceType.REALTIME
    )
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True, help_text=_("Comma separated."))
    service_notice = models.TextField(
        _("service notice"), blank=True, help_text=_("Returned to the client with each new request.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")
        ordering = ["category__path"]

    def __str__(self) -> str:
        return str(self.category)


class Datatype(models.TextChoices):
    STRING = "string", _("short text")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("long text")
    SINGLEVALUELIST = "singlevaluelist", _("one of a list")
    MULTIVALUELIST = "multivaluelist", _("several of a list")


LIST_DATATYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})


class ServiceAttribute(models.Model):
    """An extra question asked for a category (补充信息), e.g. "Which floor?" or "Is the road blocked?"."""

    category = models.ForeignKey(
        "cases.Category",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("category"),
    )
    code = models.CharField(
        _("code"), max_length=64, help_text=_("Clients send the answer as attribute[code].")
    )
    variable = models.BooleanField(
        _("asks for input"),
        default=True,
        help_text=_("Off: the description is only information shown to the resident."),
    )
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("datatype description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.TextField(_("question"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_code_uniq")
        ]

    def __str__(self) -> str:
        return self.code


class AttributeValue(models.Model):
    attribute = models.ForeignKey(
        ServiceAttribute, on_delete=models.CASCADE, related_name="values", verbose_name=_("attribute")
    )
    key = models.CharField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        ordering = ["attribute", "order", "key"]
        constraints = [models.UniqueConstraint(fields=["attribute", "key"], name="open311_value_key_uniq")]

    def __str__(self) -> str:
        return f"{self.key}: {self.name}"


class ApiKey(models.Model):
    """A client's key. The secret (``o311_`` + 43 characters) is shown once when issued; only its SHA-256
    is stored. Revoked keys stay for the record."""

    name = models.CharField(_("client"), max_length=100)
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("endpoint")
    )
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    requests_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=60,
        help_text=_("Requests made with this key in one minute (every method); more are refused with 429."),
    )
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["digest"], name="open311_apikey_digest_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RateWindow(models.Model):
    """Requests counted per key and minute (one conditional UPDATE per request). Old rows are pruned by the
    worker job ``open311.prune``."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+", db_index=False)
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "minute"], name="open311_ratewindow_key_minute")
        ]
        indexes = [models.Index(fields=["minute"], name="open311_ratewindow_minute_idx")]

    def __str__(self) -> str:
        return f"{self.api_key_id}@{self.minute:%Y-%m-%d %H:%M}: {self.count}"


class ServiceRequest(models.Model):
    """The Open311 side of a case: posted through this door (``source`` empty) or imported (``source`` names
    the file or system, ``external_id`` its request id there)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="open311", verbose_name=_("case")
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.PROTECT, related_name="+", verbose_name=_("endpoint"), db_index=False
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    token = models.CharField(_("token"), max_length=40)
    source = models.CharField(_("source"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    address_id = models.CharField(_("address id"), max_length=64, blank=True)
    zipcode = models.CharField(_("postal code"), max_length=16, blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    attributes = models.JSONField(_("answers"), default=dict, blank=True)
    agency = models.CharField(_("agency (as imported)"), max_length=200, blank=True)
    status_raw = models.CharField(_("status (as imported)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        constraints = [
            models.UniqueConstraint(fields=["token"], name="open311_request_token_uniq"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="open311_request_external_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["api_key"], name="open311_request_key_idx", condition=models.Q(api_key__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.token}"
