"""Responsibility lists: the documented CSV format read and refused with every problem named,
GB18030 from Excel, export and import round trip, the shipped sample in any database."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from gridmap.cli import app as cli
from gridmap.errors import ImportValidationError, InvalidInput
from gridmap.io.duties import read_duties, validate_duties, write_duties
from gridmap.service import Intake
from gridmap.service.duties import sample_duties_folder
from tests.appeals.lists import BODIES, DUTIES, MATTERS, write_list
from tests.region import STREET, XINFA, Region, region

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["region"]


def problems_of(folder: Path, known: set[str] | None = None) -> list[str]:
    data, found = read_duties(folder)
    try:
        validate_duties(data, found, known)
    except ImportValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_good_list_reads_whole(tmp_path: Path) -> None:
    data, found = read_duties(write_list(tmp_path))
    assert found == []
    assert data.counts() == {"matters": 10, "bodies": 5, "duties": 7}
    override = next(d for d in data.duties if d.division_code)
    assert (override.matter_code, override.owner, override.time_limit) == ("env-trash", "street", 5)
    heat = next(b for b in data.bodies if b.code == "heat-east")
    assert heat.serves == ("220103001001",)


def test_every_problem_is_named_by_file_row_column_and_value(tmp_path: Path) -> None:
    matters = MATTERS + "env,重复,,,\nloop-a,甲,loop-b,,\nloop-b,乙,loop-a,,\nbad code!,坏,,,\n"
    bodies = BODIES + "x-dept,某局,ministry,,,\nfar,远方,company,water,,2201\n"
    duties = DUTIES + (
        "street_duty,env-ad,,street,,,2,days,,\n"  # a second owner everywhere
        "street_duty,ghost,,street,,,2,days,,\n"
        "weekly,civ-cert,220103001001,community,,,1,days,,\n"
        "street_duty,env-ad,220103001001,department,,,1,days,,\n"
        "street_duty,shop-fire,220103001001,department,heat-east,,1,days,,\n"
        "street_duty,util-heat,220103001001,company,,,1,days,,\n"
        "street_duty,civ-cert,220103001002,grid,,,0,weeks,,\n"
    )
    got = problems_of(write_list(tmp_path, matters=matters, bodies=bodies, duties=duties))
    expected = [
        "matters row 11 code: 'env' appears twice",
        "loop-b would be its own ancestor",
        "matters row 14 code: 'bad code!' is not a code",
        "bodies row 6 kind: 'ministry' is not one of department, company",
        "bodies row 7 serves: '2201' is not a 12-digit division code",
        "duties row 8 matter_code: 'env-ad' has a second entry for everywhere",
        "duties row 9 matter_code: 'ghost' is not a matter code in matters.csv",
        "duties row 10 list: 'weekly' is not one of",
        "duties row 11 body_code: is empty: a department duty names the department's code",
        "duties row 12 body_code: 'heat-east' is a company, but the owner is a department",
        "duties row 13 service: is empty: a company duty names the company",
        "duties row 14 time_limit: '0' is not a whole number above 0",
        "duties row 14 time_unit: 'weeks' is not one of hours, days, clock_hours",
    ]
    for want in expected:
        assert any(want in p for p in got), (want, got)


def test_division_codes_are_checked_against_the_database(tmp_path: Path) -> None:
    folder = write_list(tmp_path)
    got = problems_of(folder, known={"220103001000"})
    assert any("'220103001001'" in p and "not a division in the database" in p for p in got)
    assert problems_of(folder, known={"220103001000", "220103001001", "220103000000"}) == []


def test_missing_files_and_columns_are_named(tmp_path: Path) -> None:
    folder = write_list(tmp_path, duties="list,matter_code\nstreet_duty,env-ad\n")
    got = problems_of(folder)
    assert any("lacks the column(s) owner, time_limit, time_unit" in p for p in got)
    (folder / "matters.csv").unlink()
    assert any("matters.csv is missing" in p for p in problems_of(folder))


def test_a_list_saved_by_excel_in_gb18030_reads_the_same(tmp_path: Path) -> None:
    utf8, _ = read_duties(write_list(tmp_path / "a"))
    gbk, found = read_duties(write_list(tmp_path / "b", encoding="gb18030"))
    assert found == []
    assert gbk.matters == utf8.matters
    assert gbk.duties == utf8.duties


def test_mojibake_is_refused(tmp_path: Path) -> None:
    garbled = MATTERS.replace("垃圾堆放", "鍨冨溇鍫嗘斁")
    got = problems_of(write_list(tmp_path, matters=garbled))
    assert any("matters row 2 name" in p and "UTF-8 read as GBK" in p for p in got)


def test_export_then_import_gives_the_same_list(tmp_path: Path) -> None:
    data, _ = read_duties(write_list(tmp_path / "in"))
    write_duties(data, tmp_path / "out")
    again, found = read_duties(tmp_path / "out")
    assert found == []
    assert (again.matters, again.bodies, again.duties) == (data.matters, data.bodies, data.duties)
    write_duties(data, tmp_path / "list.zip")
    zipped, found = read_duties(tmp_path / "list.zip")
    assert found == []
    assert zipped.duties == data.duties
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"neither a folder nor a \.zip"):
        read_duties(tmp_path / "notes.txt")


def test_the_shipped_sample_has_the_seed_s_structure() -> None:
    data, found = read_duties(sample_duties_folder())
    assert [p for p in found if p.severity == "error"] == []
    lists: dict[str, int] = {}
    for d in data.duties:
        lists[d.list] = lists.get(d.list, 0) + 1
    assert lists == {"street_duty": 100, "community_power": 20, "community_service": 37}
    parents = {m.parent_code for m in data.matters if m.parent_code}
    leaves = {m.code for m in data.matters if m.code not in parents}
    assert {d.matter_code for d in data.duties} == leaves
    assert {d.owner for d in data.duties} == {"street", "community", "grid", "department",
                                              "company"}  # fmt: skip
    assert "ILLUSTRATIVE" in (sample_duties_folder() / "README.md").read_text(encoding="utf-8")


@pytest.mark.postgis
def test_the_sample_applies_to_whatever_divisions_are_imported(region: Region) -> None:
    """The test region's codes are not the demo's: the street, community and grid entries
    still name its own divisions."""
    region.gm.load_sample_duties()
    with (sample_duties_folder() / "duties.csv").open(encoding="utf-8") as f:
        owners = {r["matter_code"]: r["owner"] for r in csv.DictReader(f)}
    expected = {"street": STREET, "community": XINFA, "grid": "220103001001001"}
    for matter in ("SANI.01", "ENV.01", "PROP.01"):
        a, _, _ = region.gm.file_appeal(Intake(matter, "问题", lon=125.305, lat=43.885))
        assert a.owner.kind == owners[matter]
        if owners[matter] in expected:
            assert a.owner.code == expected[owners[matter]]
    companies = [m for m, o in owners.items() if o == "company"]
    a, _, _ = region.gm.file_appeal(Intake("GAS.01", "闻到燃气味", lon=125.305, lat=43.885))
    assert "GAS.01" in companies
    assert (a.owner.kind, a.time_unit, a.time_limit) == ("company", "clock_hours", 2)


@pytest.mark.postgis
def test_the_duties_commands(region: Region, db_url: str, tmp_path: Path) -> None:
    run = CliRunner()
    res = run.invoke(cli, ["duties", "import", str(write_list(tmp_path / "in")),
                           "--database-url", db_url])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "10 matters, 5 bodies, 7 duties loaded" in res.stdout
    res = run.invoke(cli, ["duties", "show", XINFA, "--database-url", db_url])
    assert "区消防救援大队" in res.stdout
    assert "东城热力" in res.stdout
    res = run.invoke(cli, ["duties", "export", str(tmp_path / "out"), "--database-url", db_url])
    assert res.exit_code == 0
    assert (tmp_path / "out" / "duties.csv").read_text(encoding="utf-8-sig").count("\n") == 8
    bad = write_list(tmp_path / "bad", duties=DUTIES + "street_duty,ghost,,street,,,2,days,,\n")
    res = run.invoke(cli, ["duties", "import", str(bad), "--database-url", db_url])
    assert res.exit_code != 0
    assert "'ghost'" in str(res.exception)
    cal = tmp_path / "cal.csv"
    cal.write_text("day,working,note\n2026-10-01,no,国庆\n2026-10-10,yes,调休\n", encoding="utf-8")
    res = run.invoke(cli, ["duties", "calendar", str(cal), "--database-url", db_url])
    assert "2 calendar days loaded" in res.stdout
    res = run.invoke(cli, ["duties", "load-sample", "--database-url", db_url])
    assert "illustrative list loaded: 177 matters" in res.stdout


def test_a_bad_parent_is_named_by_its_file_row_after_a_refused_row(tmp_path: Path) -> None:
    matters = "code,name,parent_code\nbad code!,坏,,\nenv,市容,\nenv-ad,小广告,nowhere\n"
    duties = "list,matter_code,owner,time_limit,time_unit\nstreet_duty,env-ad,street,2,days\n"
    got = problems_of(
        write_list(tmp_path, matters=matters, duties=duties, bodies="code,name,kind\n")
    )
    assert any(p.startswith("matters row 3 parent_code: 'nowhere'") for p in got), got
