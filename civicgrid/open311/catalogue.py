"""Services: which categories are offered through Open311 and how (read side).

A service is an active leaf of the category tree (the minor class, 小类) whose own row and ancestors are
active and not switched off for Open311; its group is the top-level class (大类). Settings and extra
questions are admin data (``ServiceSetting``, ``ServiceAttribute``); a category without a setting row is a
listed, public, realtime service with no extra questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from civicgrid.cases.models import Category
from civicgrid.open311.models import AttributeValue, ServiceAttribute, ServiceSetting, ServiceType


@dataclass(frozen=True)
class Service:
    category: Category
    group: str
    path_names: str  # "城乡建设 / 市政设施 / 路灯" — the description when the setting has none
    setting: ServiceSetting | None
    has_attributes: bool

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def service_type(self) -> str:
        return self.setting.service_type if self.setting else ServiceType.REALTIME

    @property
    def notice(self) -> str:
        return self.setting.service_notice if self.setting else ""


def _under(path: str, roots: list[str]) -> bool:
    return any(path.startswith(root) for root in roots)


def listed_services() -> list[Service]:
    """Every service offered now, in the catalogue's order."""
    categories = list(
        Category.objects.order_by("path").only("id", "code", "name", "path", "parent_id", "is_active")
    )
    settings = {s.category_id: s for s in ServiceSetting.objects.all()}
    off = [
        c.path for c in categories if not c.is_active or (c.pk in settings and not settings[c.pk].is_listed)
    ]
    with_children = {c.parent_id for c in categories if c.is_active and c.parent_id is not None}
    by_code = {c.code: c for c in categories}
    asked = set(
        ServiceAttribute.objects.filter(is_active=True).values_list("category_id", flat=True).distinct()
    )
    services: list[Service] = []
    for category in categories:
        if category.pk in with_children or _under(category.path, off):
            continue
        names = [by_code[code].name for code in category.ancestor_codes if code in by_code]
        services.append(
            Service(
                category=category,
                group=names[0],
                path_names=" / ".join(names),
                setting=settings.get(category.pk),
                has_attributes=category.pk in asked,
            )
        )
    return services


def service_for_code(code: str) -> Service | None:
    """The listed service with this code, or None (unknown, inactive, a group, or not offered)."""
    for service in listed_services():
        if service.code == code:
            return service
    return None


def attributes_of(category: Category) -> list[ServiceAttribute]:
    return list(
        ServiceAttribute.objects.filter(category=category, is_active=True)
        .prefetch_related(Prefetch("values", queryset=AttributeValue.objects.order_by("order", "key")))
        .order_by("order", "code")
    )


def private_category_ids() -> list[int]:
    """Categories whose requests are never published: private ones and everything under them."""
    roots = list(ServiceSetting.objects.filter(is_private=True).values_list("category__path", flat=True))
    if not roots:
        return []
    return [pk for pk, path in Category.objects.values_list("pk", "path") if _under(path, roots)]


def category_ids_for_codes(codes: list[str]) -> list[int]:
    """The categories the codes name, with everything under them (a group code filters its services)."""
    roots = list(Category.objects.filter(code__in=codes).values_list("path", flat=True))
    if not roots:
        return []
    return [pk for pk, path in Category.objects.values_list("pk", "path") if _under(path, roots)]
