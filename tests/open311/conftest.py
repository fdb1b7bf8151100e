"""Open311 fixtures: two endpoints (天心区 as jurisdiction_id 430103, 雨花区 as 430111), a key for each, and
a street-light service whose extra questions use every datatype of the specification."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from civicgrid.cases.models import Category
from civicgrid.open311 import actions
from civicgrid.open311.models import AttributeValue, Datatype, Endpoint, ServiceAttribute
from tests.cases.helpers import BJT_POINT, YH_POINT, Catalog, build_catalog
from tests.world import World

__all__ = ["BJT_POINT", "O311", "YH_POINT", "o311"]


@dataclass
class O311:
    world: World
    catalog: Catalog
    tx: Endpoint
    yh: Endpoint
    key: str  # a key of the 天心区 endpoint
    yh_key: str
    light: Category  # 010102 路灯, with extra questions
    client: Client

    def get(self, path: str, fmt: str = "json", **params: Any) -> Any:
        params.setdefault("jurisdiction_id", "430103")
        return self.client.get(
            f"/open311/v2/{path}.{fmt}", {k: v for k, v in params.items() if v is not None}
        )

    def post(self, fmt: str = "json", headers: dict[str, str] | None = None, **params: Any) -> Any:
        params.setdefault("jurisdiction_id", "430103")
        params.setdefault("api_key", self.key)
        return self.client.post(
            f"/open311/v2/requests.{fmt}",
            {k: v for k, v in params.items() if v is not None},
            headers=headers or {},
        )

    def post_light(self, **params: Any) -> Any:
        """A valid street-light request at 八角亭 (JSON); override any argument."""
        base: dict[str, Any] = {
            "service_code": "010102",
            "lat": str(BJT_POINT[1]),
            "long": str(BJT_POINT[0]),
            "description": "小区东门路灯不亮。已经三天了",
            "attribute[state]": "dark",
        }
        base.update(params)
        return self.post(**base)


def body(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture
def o311(world: World) -> O311:
    catalog = build_catalog()
    mid = Category.objects.get(code="0101")
    light = Category.objects.create(
        code="010102", name="路灯", parent=mid, path=f"{mid.path}010102/", depth=3
    )
    questions = [
        ("pole", Datatype.STRING, False, 1, []),
        ("state", Datatype.SINGLEVALUELIST, True, 2, [("dark", "不亮"), ("flicker", "闪烁")]),
        (
            "hazards",
            Datatype.MULTIVALUELIST,
            False,
            3,
            [("traffic", "影响通行"), ("wire", "电线外露"), ("fall", "灯具坠落")],
        ),
        ("count", Datatype.NUMBER, False, 4, []),
        ("seen_at", Datatype.DATETIME, False, 5, []),
        ("notes", Datatype.TEXT, False, 6, []),
    ]
    for code, datatype, required, order, values in questions:
        attribute = actions.do_save_service_attribute(
            ServiceAttribute(
                category=light,
                code=code,
                datatype=datatype,
                required=required,
                order=order,
                description=f"问题 {code}",
            ),
            actor=None,
        )
        for n, (key, name) in enumerate(values):
            actions.do_save_attribute_value(
                AttributeValue(attribute=attribute, key=key, name=name, order=n), actor=None
            )
    tx = actions.do_save_endpoint(
        Endpoint(code="430103", jurisdiction=world.j("430103"), name="天心区 12345"), actor=None
    )
    yh = actions.do_save_endpoint(
        Endpoint(code="430111", jurisdiction=world.j("430111"), name="雨花区 12345"), actor=None
    )
    _key, secret = actions.do_issue_api_key(tx, name="app", requests_per_minute=10_000, actor=None)
    _key, yh_secret = actions.do_issue_api_key(yh, name="yh app", requests_per_minute=10_000, actor=None)
    return O311(
        world=world,
        catalog=catalog,
        tx=tx,
        yh=yh,
        key=secret,
        yh_key=yh_secret,
        light=light,
        client=Client(),
    )
