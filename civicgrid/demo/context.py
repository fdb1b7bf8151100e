"""The demo loader's shared context and its list of steps.

Each app owns the demo data of its own models in ``<app>/demo.py`` with a ``load(ctx)`` function; later
apps (cases, registries, statistics) add their step to DEMO_STEPS. Steps must be idempotent: they look
records up by natural keys (codes, usernames) and only create what is missing, so running the loader twice
changes nothing. They write through the apps' actions with actor=None (system work).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEMO_STEPS: list[str] = [
    "civicgrid.jurisdictions.demo",
    "civicgrid.accounts.demo",
    "civicgrid.grids.demo",
    "civicgrid.cases.demo",
    "civicgrid.portal.demo",
    "civicgrid.hotline.demo",
    "civicgrid.services.demo",
    "civicgrid.fieldwork.demo",
    "civicgrid.open311.demo",
    "civicgrid.stats.demo",
    "civicgrid.assessment.demo",
    "civicgrid.triage.demo",
]

DEMO_COUNTY = "430103"  # 长沙市天心区
DEMO_PASSWORD = "civicgrid-demo"


@dataclass
class DemoContext:
    data_dir: Path
    say: Callable[[str], object]
    county_code: str = DEMO_COUNTY
    seed: str = "civicgrid-demo-v1"
    password_hash: str = ""
    #: At most this many messages become demo cases (None: all of them, ≈3,200); tests load a few dozen.
    case_limit: int | None = None
    #: Login personas printed by `demo_logins`: (username, role label, where).
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def rng(self, *key: object) -> random.Random:
        """A random generator that depends only on the seed and the key: stable across runs and orders."""
        digest = hashlib.sha256(":".join([self.seed, *map(str, key)]).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华红建文辉力玲慧丹凤鹏斌宇浩凯晨波旭琳雪梅海燕亮婷飞鑫宁"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def mobile_number(rng: random.Random) -> str:
    prefix = rng.choice(
        [
            "135",
            "136",
            "137",
            "138",
            "139",
            "150",
            "151",
            "152",
            "158",
            "173",
            "177",
            "180",
            "186",
            "189",
            "199",
        ]
    )
    return prefix + "".join(str(rng.randrange(10)) for _ in range(8))
