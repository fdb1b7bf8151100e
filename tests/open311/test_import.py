"""Importing requests in Open311 form (civicgrid.open311.importing, ``manage.py import_open311``): the
Chicago sample in JSON, XML and CSV, the us311 file (16,984 real requests), idempotency, row errors, and the
clocks an imported case gets."""

from __future__ import annotations

import csv
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.cases import clocks
from civicgrid.cases.actions.catalog import do_save_category
from civicgrid.cases.models import (
    AssignmentStatus,
    Case,
    CaseAssignment,
    CaseClock,
    CaseEvent,
    CaseNumberCounter,
    Category,
    Channel,
    ClockState,
    Stage,
    Timing,
)
from civicgrid.cases.workflow import Status
from civicgrid.jurisdictions.models import Unit, UnitType
from civicgrid.lib import clock
from civicgrid.open311.actions import do_save_endpoint
from civicgrid.open311.importing import (
    IMPORT_EVENT,
    ImportFileError,
    ImportReport,
    do_import_requests,
    make_title,
    map_channel,
    read_requests,
)
from civicgrid.open311.models import Endpoint, ServiceRequest, ServiceSetting
from tests.cases.helpers import BJT_POINT, build_catalog
from tests.world import World

CST = ZoneInfo("Asia/Shanghai")
CHICAGO = settings.SHARED_DATA_DIR / "open311" / "samples" / "chicago_open311_requests_2014_bubble.json"
US311 = settings.SHARED_DATA_DIR / "us311" / "combined_open311_style_16984.csv"
US311_ROWS = 16984
CSV_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def endpoint(world: World) -> Endpoint:
    """长沙市 (430100) serves Open311; its whole tree is the endpoint's area."""
    return do_save_endpoint(
        Endpoint(code="430100", jurisdiction=world.j("430100"), name="长沙市 311"), actor=None
    )


def chicago_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(CHICAGO.read_text(encoding="utf-8"))
    return records


def run(
    path: Path,
    endpoint: Endpoint,
    *,
    source: str,
    fmt: str = "auto",
    create_missing: bool = True,
    step: int = 1,
    batch_size: int = 1000,
) -> ImportReport:
    return do_import_requests(
        itertools.islice(read_requests(path, fmt), 0, None, step),
        endpoint=endpoint,
        source=source,
        create_missing=create_missing,
        unit_type=UnitType.objects.get(code="cg") if create_missing else None,
        timezone=CST,
        actor=None,
        batch_size=batch_size,
    )


def imported(source: str) -> dict[str, Case]:
    """The source's cases by their id there."""
    return {
        r.external_id: r.case
        for r in ServiceRequest.objects.filter(source=source).select_related(
            "case", "case__category", "case__lead_unit"
        )
    }


def write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def chicago_as_csv(path: Path) -> Path:
    extended = sorted({k for r in chicago_records() for k in r["extended_attributes"]})
    codes = sorted({k for r in chicago_records() for k in r.get("attributes", {})})
    rows = []
    for r in chicago_records():
        row = {k: "" if r.get(k) is None else r[k] for k in CSV_FIELDS}
        row.update({k: r["extended_attributes"].get(k, "") for k in extended})
        row["zipcode"] = r["extended_attributes"]["zip"]
        row.update({f"attribute[{c}]": r.get("attributes", {}).get(c, "") for c in codes})
        rows.append(row)
    return write_csv(path, [*CSV_FIELDS, "zipcode", *extended, *(f"attribute[{c}]" for c in codes)], rows)


def chicago_as_xml(path: Path) -> Path:
    root = ET.Element("service_requests")
    for r in chicago_records():
        request = ET.SubElement(root, "request")
        for key, value in r.items():
            element = ET.SubElement(request, key)
            if isinstance(value, dict):
                for k, v in value.items():
                    ET.SubElement(element, k).text = str(v)
            elif isinstance(value, list):  # the history notes: read, not imported
                for note in value:
                    ET.SubElement(ET.SubElement(element, "note"), "summary").text = str(note.get("summary"))
            elif value is not None:
                element.text = str(value)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


# --- The Chicago sample ----------------------------------------------------------------------------------


def test_the_chicago_sample_keeps_its_times_statuses_services_and_agencies(endpoint: Endpoint) -> None:
    report = run(CHICAGO, endpoint, source="chicago")

    assert (report.created, report.skipped_existing, report.failed) == (50, 0, [])
    cases = imported("chicago")
    assert len(cases) == 50
    for r in chicago_records():
        case = cases[r["service_request_id"]]
        requested = datetime.fromisoformat(r["requested_datetime"])
        updated = datetime.fromisoformat(r["updated_datetime"])
        assert case.received_at == requested == case.registered_at
        assert case.updated_at == updated  # what Open311's updated_datetime will say
        assert case.category is not None
        assert (case.category.code, case.category.name) == (r["service_code"], r["service_name"])
        assert case.lead_unit is not None
        assert case.lead_unit.name == r["agency_responsible"]
        assert (
            case.channel
            == {"phone": Channel.HOTLINE, "web": Channel.WEB, "open311": Channel.OPEN311}[
                r["extended_attributes"]["channel"]
            ]
        )
        assert (case.is_anonymous, case.needs_revisit) == (True, False)
        assert (case.lon, case.lat) == (r["long"], r["lat"])
        assert case.version == 1
        if r["status"] == "closed":
            assert case.status == Status.ARCHIVED
            assert case.closed_at == case.replied_at == updated  # closed: updated_datetime is the closing
            assert case.reply == r["status_notes"]
        else:
            assert case.status == Status.HANDLING
            assert (case.closed_at, case.replied_at, case.reply) == (None, None, "")
        request = case.open311
        assert request.attributes == r.get("attributes", {})
        assert request.agency == r["agency_responsible"]
        assert request.status_raw == r["status"]
        assert request.zipcode == r["extended_attributes"]["zip"]
        assert request.media_url == (r.get("media_url") or "")
        assert request.created_at == requested
    assert Counter(c.status for c in cases.values()) == {Status.ARCHIVED: 49, Status.HANDLING: 1}


def test_each_imported_case_has_one_import_event_and_its_assignment(endpoint: Endpoint) -> None:
    run(CHICAGO, endpoint, source="chicago")
    first = chicago_records()[0]
    case = imported("chicago")[first["service_request_id"]]

    event = CaseEvent.objects.get(case=case)
    assert (event.seq, event.code, event.actor, event.from_status, event.to_status) == (
        1,
        IMPORT_EVENT,
        None,
        "",
        Status.ARCHIVED,
    )
    assert event.at == case.received_at
    assert event.data == {
        "source": "chicago",
        "external_id": first["service_request_id"],
        "status_raw": "closed",
        "channel_raw": "phone",
        "extra": {"police": "6", "ward": "21", "zip": "60620"},  # the channel went to its own field
    }
    lead = CaseAssignment.objects.get(case=case)
    assert (lead.unit, lead.status, lead.is_current) == (case.lead_unit, AssignmentStatus.REPLIED, False)
    assert (lead.replied_at, lead.reply) == (case.closed_at, case.reply)
    open_case = Case.objects.get(status=Status.HANDLING)
    lead = CaseAssignment.objects.get(case=open_case)
    assert (lead.status, lead.is_current) == (AssignmentStatus.ACCEPTED, True)


def test_missing_services_and_agencies_are_created_once_under_the_source(endpoint: Endpoint) -> None:
    report = run(CHICAGO, endpoint, source="chicago")

    root = Category.objects.get(parent=None, name="chicago")
    services = Category.objects.filter(parent=root)
    assert report.categories_created == 1 + services.count() == 8
    assert set(services.values_list("code", flat=True)) == {r["service_code"] for r in chicago_records()}
    # History, not services to post to: the source's root is not offered to Open311 clients.
    assert ServiceSetting.objects.get(category=root).is_listed is False
    units = Unit.objects.filter(name__in={r["agency_responsible"] for r in chicago_records()})
    assert report.units_created == units.count() == 5
    assert {u.jurisdiction for u in units} == {endpoint.jurisdiction}
    assert len({u.code for u in units}) == 5


def test_xml_and_csv_of_the_same_records_give_the_same_cases(endpoint: Endpoint, tmp_path: Path) -> None:
    run(CHICAGO, endpoint, source="json")
    xml_report = run(chicago_as_xml(tmp_path / "requests.xml"), endpoint, source="xml")
    csv_report = run(chicago_as_csv(tmp_path / "requests.csv"), endpoint, source="csv")

    assert (xml_report.created, xml_report.failed, csv_report.created, csv_report.failed) == (50, [], 50, [])
    assert xml_report.categories_created == csv_report.categories_created == 0  # matched by code

    def summary(source: str) -> dict[str, tuple[Any, ...]]:
        result = {}
        for external_id, case in imported(source).items():
            request = case.open311
            event = CaseEvent.objects.get(case=case)
            ks = [
                (k.stage, k.seq, k.deadline_at, k.state, k.stopped_at, k.timing, k.next_fire_at)
                for k in CaseClock.objects.filter(case=case).order_by("seq")
            ]
            result[external_id] = (
                *(
                    getattr(case, f)
                    for f in ("status", "channel", "title", "description", "address", "reply")
                ),
                *(getattr(case, f) for f in ("lon", "lat", "category_id", "lead_unit_id", "origin_id")),
                *(getattr(case, f) for f in ("received_at", "closed_at", "updated_at", "due_at", "timing")),
                case.was_overdue,
                case.number[:12],
                ks,
                (request.zipcode, request.media_url, request.agency, request.status_raw),
                {k: str(v) for k, v in request.attributes.items()},  # CSV cells are text
                {k: v for k, v in event.data.items() if k != "source"},
            )
        return result

    from_json = summary("json")
    assert len(from_json) == 50
    assert summary("xml") == from_json
    assert summary("csv") == from_json


def test_a_second_run_creates_nothing(endpoint: Endpoint) -> None:
    run(CHICAGO, endpoint, source="chicago")
    counts = [m.objects.count() for m in (Case, CaseClock, CaseEvent, CaseAssignment, Category, Unit)]
    counter = list(CaseNumberCounter.objects.values_list("city_code", "year", "last"))

    again = run(CHICAGO, endpoint, source="chicago")

    assert (again.created, again.skipped_existing, again.failed) == (0, 50, [])
    assert (again.categories_created, again.units_created) == (0, 0)
    assert [m.objects.count() for m in (Case, CaseClock, CaseEvent, CaseAssignment, Category, Unit)] == counts
    assert list(CaseNumberCounter.objects.values_list("city_code", "year", "last")) == counter


def test_the_same_ids_from_another_source_are_other_requests(endpoint: Endpoint) -> None:
    run(CHICAGO, endpoint, source="chicago")
    report = run(CHICAGO, endpoint, source="chicago-mirror")
    assert report.created == 50
    assert Case.objects.count() == 100


def test_numbers_are_drawn_per_city_and_year_in_blocks(endpoint: Endpoint) -> None:
    run(CHICAGO, endpoint, source="chicago", batch_size=7)  # several batches, a block each

    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert all(re.fullmatch(r"430100-2014-\d{6}", n) for n in numbers)
    assert numbers == [f"430100-2014-{i:06d}" for i in range(1, 51)]  # one run, no failures: no gaps
    assert CaseNumberCounter.objects.get(city_code="430100", year=2014).last == 50


# --- Clocks ---------------------------------------------------------------------------------------------


def test_clocks_are_planned_as_for_any_case_and_stopped_at_the_closing(endpoint: Endpoint) -> None:
    run(CHICAGO, endpoint, source="chicago")

    for case in Case.objects.select_related("category"):
        planned = clocks.plan_clocks(case, Stage.HANDLE, at=case.received_at)
        stored = list(CaseClock.objects.filter(case=case).order_by("seq"))
        assert [(k.stage, k.seq, k.unit, k.limit_value) for k in stored] == [
            (k.stage, k.seq, k.unit, k.limit_value) for k in planned
        ]
        assert [(k.started_at, k.warn_at, k.deadline_at, k.serious_at) for k in stored] == [
            (k.started_at, k.warn_at, k.deadline_at, k.serious_at) for k in planned
        ]
        for k in stored:
            if case.closed_at is not None:
                assert (k.state, k.stopped_at, k.next_fire_at) == (ClockState.STOPPED, case.closed_at, None)
                assert k.timing == clocks.timing_at(k, case.closed_at)
            else:  # requested in 2014, still open: long past every threshold, none left to fire
                assert (k.state, k.timing, k.next_fire_at) == (ClockState.RUNNING, Timing.SERIOUS, None)
        assert case.was_overdue == any(k.is_late for k in stored)
        if case.closed_at is not None:
            assert (case.due_at, case.due_stage, case.timing) == (None, "", Timing.ON_TIME)
        else:
            assert (case.due_at, case.due_stage, case.timing) == (
                stored[0].deadline_at,
                Stage.HANDLE,
                "serious",
            )


def test_a_recent_open_request_keeps_its_future_alarms(endpoint: Endpoint, tmp_path: Path) -> None:
    build_catalog()
    requested = (clock.now() - timedelta(minutes=5)).replace(microsecond=0)
    path = write_csv(
        tmp_path / "recent.csv",
        ["service_request_id", "status", "service_code", "requested_datetime"],
        [
            {
                "service_request_id": "r1",
                "status": "open",
                "service_code": "010101",
                "requested_datetime": requested.isoformat(),
            }
        ],
    )
    report = run(path, endpoint, source="recent", create_missing=False)

    assert report.created == 1
    case = Case.objects.get()
    assert case.status == Status.REGISTERED  # no agency: it waits at its desk
    assert (case.lead_unit, case.dispatched_at) == (None, None)
    k = CaseClock.objects.get(case=case)
    assert (k.state, k.timing, k.started_at) == (ClockState.RUNNING, Timing.ON_TIME, requested)
    assert k.next_fire_at == k.warn_at > clock.now()  # the sweeper fires the warning when it comes
    assert (case.due_at, case.due_stage, case.timing, case.was_overdue) == (
        k.deadline_at,
        Stage.HANDLE,
        Timing.ON_TIME,
        False,
    )


def test_staged_limits_give_every_stage_its_clock(endpoint: Endpoint, tmp_path: Path) -> None:
    build_catalog()  # 02 违法建设: 停工 4 工作时 → 处罚 7 工作日 → 拆除 20 工作日
    path = write_csv(
        tmp_path / "staged.csv",
        ["service_request_id", "status", "service_code", "requested_datetime", "closed_datetime"],
        [
            {
                "service_request_id": "s1",
                "status": "closed",
                "service_code": "02",
                "requested_datetime": "2026-03-02T09:00:00",
                "closed_datetime": "2026-03-05T09:00:00",
            }
        ],
    )
    run(path, endpoint, source="staged", create_missing=False)

    stored = list(CaseClock.objects.order_by("seq"))
    assert [(k.seq, k.label, k.state) for k in stored] == [
        (0, "停工", ClockState.STOPPED),
        (1, "处罚", ClockState.STOPPED),
        (2, "拆除", ClockState.STOPPED),
    ]
    # 4 working hours from Monday 09:00 end that afternoon: the first stage is late by Thursday.
    assert [k.timing for k in stored] == [Timing.SERIOUS, Timing.ON_TIME, Timing.ON_TIME]
    assert Case.objects.get().was_overdue is True


# --- Where -----------------------------------------------------------------------------------------------


def test_a_point_in_a_grid_cell_of_the_area_locates_the_case(
    world: World, endpoint: Endpoint, tmp_path: Path
) -> None:
    build_catalog()
    lon, lat = BJT_POINT
    header = ["service_request_id", "status", "service_code", "requested_datetime", "lat", "long"]
    row = {"status": "open", "service_code": "010101", "requested_datetime": "2026-03-02T09:00:00"}
    path = write_csv(
        tmp_path / "here.csv", header, [{**row, "service_request_id": "p1", "lat": lat, "long": lon}]
    )
    run(path, endpoint, source="here", create_missing=False)
    # The same point seen from 雨花区's endpoint lies outside its area: the case stays at its jurisdiction.
    yuhua = do_save_endpoint(
        Endpoint(code="430111", jurisdiction=world.j("430111"), name="雨花区"), actor=None
    )
    run(path, yuhua, source="yuhua", create_missing=False)

    here = imported("here")["p1"]
    assert here.grid_cell == world.cells["430103002001001"]
    assert here.origin == world.j("430103002001")
    assert here.jurisdiction == world.j("430103")  # the public intake level (county) above the place
    assert here.number.startswith("430100-2026-")
    there = imported("yuhua")["p1"]
    assert (there.grid_cell, there.origin, there.jurisdiction) == (None, world.j("430111"), world.j("430111"))


# --- Bad input -------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_and_nothing_of_them_is_written(endpoint: Endpoint, tmp_path: Path) -> None:
    do_save_category(Category(code="PH01", name="Pothole"), actor=None)
    header = ["service_request_id", "status", "service_code", "service_name", "requested_datetime"]
    header += ["closed_datetime", "lat", "long", "media_url", "agency_responsible"]
    good = {"status": "closed", "service_code": "PH01", "requested_datetime": "2018-01-02T10:00:00"}
    good |= {"closed_datetime": "2018-01-03T10:00:00", "agency_responsible": "Nobody we know"}
    rows = [
        {**good, "service_request_id": ""},
        {**good, "service_request_id": "b2", "requested_datetime": "2018-13-45T10:00:00"},
        {**good, "service_request_id": "b3", "closed_datetime": "2018-01-01T10:00:00"},
        {**good, "service_request_id": "b4", "service_code": "XX9", "service_name": "Alien landing"},
        {**good, "service_request_id": "b5", "status": "pending"},
        {**good, "service_request_id": "b6", "lat": "41.8"},
        {**good, "service_request_id": "b7", "lat": "north"},
        {**good, "service_request_id": "b8", "closed_datetime": ""},
        {**good, "service_request_id": "ok", "media_url": "javascript:alert(1)"},
        {**good, "service_request_id": "ok"},
    ]
    path = write_csv(tmp_path / "bad.csv", header, rows)
    categories, units = Category.objects.count(), Unit.objects.count()

    report = run(path, endpoint, source="bad", create_missing=False)

    assert report.created == 1
    reasons = dict(report.failed)
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert reasons[1] == "service_request_id is missing."
    assert reasons[2] == "requested_datetime: “2018-13-45T10:00:00” is not an ISO 8601 date and time."
    assert reasons[3].startswith("Closed (2018-01-01T10:00:00+08:00) before it was requested")
    assert reasons[4] == "Unknown service “XX9 / Alien landing” (import with --create-missing to add it)."
    assert reasons[5] == "status must be “open” or “closed”, not “pending”."
    assert reasons[6] == "Give both lat and long, or neither."
    assert reasons[7] == "lat: “north” is not a number."
    assert reasons[8] == "A closed request needs closed_datetime or updated_datetime."
    assert reasons[10] == "service_request_id ok was already read in record 9."
    case = Case.objects.get()
    assert case.open311.external_id == "ok"
    assert case.open311.media_url == ""  # not an http(s) URL: dropped
    assert (case.lead_unit, case.open311.agency) == (None, "Nobody we know")
    assert (ServiceRequest.objects.count(), CaseEvent.objects.count(), CaseClock.objects.count()) == (1, 1, 1)
    assert (Category.objects.count(), Unit.objects.count()) == (categories, units)


def test_a_batch_that_fails_to_write_leaves_nothing_behind(endpoint: Endpoint) -> None:
    with (
        mock.patch.object(ServiceRequest.objects, "bulk_create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        run(CHICAGO, endpoint, source="chicago")

    assert (Case.objects.count(), CaseClock.objects.count(), CaseEvent.objects.count()) == (0, 0, 0)
    assert not CaseNumberCounter.objects.exists()  # the block was given back with the batch
    assert run(CHICAGO, endpoint, source="chicago").created == 50  # categories made before are reused


def test_an_xml_file_with_a_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><service_requests><request>'
        "<service_request_id>&a;</service_request_id></request></service_requests>",
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError, match="DTD"):
        list(read_requests(path))


def test_a_csv_without_an_id_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "noid.csv", ["status"], [{"status": "open"}])
    with pytest.raises(ImportFileError, match="service_request_id"):
        list(read_requests(path))


def test_only_platform_operators_import(world: World, endpoint: Endpoint) -> None:
    with pytest.raises(PermissionDenied):
        do_import_requests(
            [],
            endpoint=endpoint,
            source="x",
            create_missing=False,
            unit_type=None,
            timezone=CST,
            actor=world.u("tx_admin"),
        )


# --- Mapping ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "channel"),
    [
        ("Phone", Channel.HOTLINE),
        ("PHONE", Channel.HOTLINE),
        ("Voice In", Channel.HOTLINE),
        ("Web Self Service", Channel.WEB),
        ("ONLINE", Channel.WEB),
        ("internet", Channel.WEB),
        ("MOBILE", Channel.APP),
        ("API", Channel.APP),
        ("iPhone app", Channel.APP),
        ("Mail", Channel.LETTER),
        ("Mail In", Channel.LETTER),
        ("letter", Channel.LETTER),
        ("Walk-in", Channel.VISIT),
        ("In person", Channel.VISIT),
        ("e-mail In", Channel.OPEN311),
        ("Email", Channel.OPEN311),
        ("Twitter", Channel.OPEN311),
        ("Open311", Channel.OPEN311),
        ("", Channel.OPEN311),
    ],
)
def test_source_channels_map_to_ours(raw: str, channel: str) -> None:
    assert map_channel(raw) == channel


def test_the_title_is_the_first_sentence_cut_to_forty_characters() -> None:
    assert make_title("Broken limb on tree. Please come soon.", "Tree") == "Broken limb on tree."
    assert make_title("路灯不亮。已经三天了", "x") == "路灯不亮。"
    assert make_title("First line\nsecond line", "x") == "First line"
    long = make_title("A very long description that goes on and on without any stop at all", "x")
    assert (len(long), long[-1]) == (40, "…")
    assert make_title("   ", "Pothole in Street") == "Pothole in Street"


# --- The command ----------------------------------------------------------------------------------------


def test_the_command_imports_and_reports(endpoint: Endpoint) -> None:
    out = StringIO()
    call_command(
        "import_open311",
        str(CHICAGO),
        "--endpoint",
        "430100",
        "--source",
        "chicago",
        "--create-missing",
        "--unit-type",
        "cg",
        "--limit",
        "10",
        stdout=out,
    )
    assert "10 records; 10 created, 0 already imported, 0 failed" in out.getvalue()
    assert Case.objects.count() == 10


def test_the_command_refuses_an_unknown_endpoint_and_shows_failures(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="no Open311 endpoint"):
        call_command("import_open311", str(CHICAGO), "--endpoint", "999", "--source", "x")
    out = StringIO()
    call_command("import_open311", str(CHICAGO), "--endpoint", "430100", "--source", "x", stdout=out)
    assert "50 failed" in out.getvalue()
    assert "  record 1: Unknown service" in out.getvalue()
    assert "… and 30 more" in out.getvalue()


# --- The us311 file ---------------------------------------------------------------------------------------


def us311_expected(step: int) -> tuple[Counter[tuple[str, str]], set[int], dict[str, dict[str, str]]]:
    """From the CSV read on its own: counts per (city, status) of the rows that must import, the record
    numbers that must fail (closed before requested) and every row by id."""
    with US311.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == US311_ROWS
    counts: Counter[tuple[str, str]] = Counter()
    failing: set[int] = set()
    by_id = {}
    for number, row in enumerate(rows, start=1):
        if (number - 1) % step:
            continue
        closed = row["status"] == "closed"
        if closed and datetime.fromisoformat(row["closed_datetime"]) < datetime.fromisoformat(
            row["requested_datetime"]
        ):
            failing.add(number)
            continue
        counts[(row["city"], row["status"])] += 1
        by_id[row["service_request_id"]] = row
    return counts, failing, by_id


def check_us311(report: ImportReport, step: int) -> None:
    counts, failing, by_id = us311_expected(step)
    assert report.created == sum(counts.values()) == len(by_id)
    assert {record for record, _ in report.failed} == failing
    assert all("before it was requested" in reason for _, reason in report.failed)
    found: Counter[tuple[str, str]] = Counter()
    events = CaseEvent.objects.filter(code=IMPORT_EVENT, case__open311__source="us311")
    for data, status, received, closed in events.values_list(
        "data", "case__status", "case__received_at", "case__closed_at"
    ):
        row = by_id[data["external_id"]]
        found[(data["extra"]["city"], "closed" if status == Status.ARCHIVED else "open")] += 1
        assert received == datetime.fromisoformat(row["requested_datetime"]).replace(tzinfo=CST)
        if row["status"] == "closed":
            assert closed == datetime.fromisoformat(row["closed_datetime"]).replace(tzinfo=CST)
        else:
            assert closed is None
        assert data["status_raw"] == row["status_raw"]
    assert found == counts
    # Every agency is its own unit (two pairs of them share their first 32 characters).
    requests = ServiceRequest.objects.filter(source="us311")
    pairs = set(requests.values_list("agency", "case__lead_unit__name"))
    assert all(agency == unit for agency, unit in pairs)
    assert len(pairs) == len({row["agency_responsible"] for row in by_id.values()})


def test_a_slice_of_the_us311_file_matches_the_csv(endpoint: Endpoint) -> None:
    step = 8  # every 8th request: about 2,100, from all three cities
    report = run(US311, endpoint, source="us311", step=step)

    check_us311(report, step)
    # Late cases are marked the way the clocks say, whatever the source's own view.
    for k in CaseClock.objects.select_related("case").filter(case__status=Status.ARCHIVED)[:500]:
        assert k.timing == clocks.timing_at(k, k.case.closed_at)  # type: ignore[arg-type]
        assert k.case.was_overdue == k.is_late


def test_the_whole_us311_file_matches_the_csv_without_a_query_per_row(endpoint: Endpoint) -> None:
    """The full file (20–25 s of the test run on either database, about 20 s of import alone)."""
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        report = run(US311, endpoint, source="us311")

    check_us311(report, 1)
    assert report.created == US311_ROWS - 55
    # Nothing is asked row by row: the queries are the batches' bulk statements and the ~1,200 categories
    # and units created on the way (about 8,600 on SQLite). Its speed is a figure for docs/benchmarks.md,
    # not a test.
    assert queries < US311_ROWS
