"""Shared by the field screen tests: a real (tiny) PNG, and cases in the grid cells of the test world."""

from __future__ import annotations

import struct
import zlib

from civicgrid.cases.actions import do_accept, do_dispatch, do_register, do_reply, do_verify
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from tests.cases.helpers import YH_POINT, Catalog, new_case, reach
from tests.world import World

BJT_CELL = "430103002001001"  # 八角亭社区第1网格: bjt_grid works it, bjt_leader leads it
YH_CELL = "430111001001001"  # 梓园社区 (雨花区): nobody of 天心区 works it


def tiny_png() -> bytes:
    """A valid 1×1 PNG (a red pixel), built by hand so the tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def yh_case(world: World, catalog: Catalog, status: Status = Status.REPLIED) -> Case:
    """A case in 雨花区's grid cell, taken in and walked by 雨花区's own people (handling → replied →
    resolved by the system where 雨花区 has nobody for the step)."""
    case = new_case(world, actor="yh_dispatcher", point=YH_POINT, title="梓园路面破损")
    do_register(case, category=catalog.road, actor=world.u("yh_dispatcher"))
    do_dispatch(case, lead=world.units["430111-cg"], actor=world.u("yh_dispatcher"))
    do_accept(case, actor=world.u("yh_cg_handler"))
    if status in (Status.REPLIED, Status.RESOLVED):
        do_reply(case, reply="已修复", actor=world.u("yh_cg_handler"))
    if status == Status.RESOLVED:
        do_verify(case, passed=True, actor=world.u("yh_dispatcher"))
    case.refresh_from_db()
    assert case.status == status, case.status
    return case


def bjt_case(world: World, catalog: Catalog, status: Status) -> Case:
    """A case in BJT_CELL in any state (tests.cases.helpers.reach puts it at BJT_POINT)."""
    case = reach(status, world, catalog)
    assert case.grid_cell is not None
    assert case.grid_cell.code == BJT_CELL
    return case
