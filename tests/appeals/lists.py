"""Small responsibility lists written by hand for the tests, in the documented CSV format.

They differ from the shipped sample on purpose: other codes, a division's own entry over the
default, companies chosen by the divisions they serve, a list saved by Excel in GB18030.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

MATTERS = """code,name,parent_code,keywords,description
env,市容,,,
env-trash,垃圾堆放,env,垃圾|堆放,
env-ad,小广告,env,,
util,公用事业,,,
util-heat,暖气不热,util,暖气|供热,
util-gas,燃气泄漏,util,,
civ,民政,,,
civ-cert,居住证明,civ,,
shop-fire,商铺消防隐患,,,
noise-night,夜间施工,,,
"""

BODIES = """code,name,kind,service,contact,serves
fire,区消防救援大队,department,fire,0431-80000001,
heat-east,东城热力,company,heating,0431-80000002,220103001001
heat-all,全城热力,company,heating,0431-80000003,
gas-a,甲燃气,company,gas,,220103000000
gas-b,乙燃气,company,gas,,220103000000
"""

# env-trash: the grid by default, but 新发街道 keeps it for itself; env-ad: the street;
# civ-cert: the community; shop-fire: a department; util-heat: the heating company of the
# place; util-gas: two companies serve the same county (a tie); noise-night: no entry
DUTIES = """list,matter_code,division_code,owner,body_code,service,time_limit,time_unit,basis,note
street_duty,env-trash,,grid,,,3,days,条例,
street_duty,env-trash,220103001000,street,,,5,days,,街道自管
street_duty,env-ad,,street,,,2,days,,
community_power,civ-cert,,community,,,1,days,,
street_duty,shop-fire,,department,fire,,24,hours,消防法,
street_duty,util-heat,,company,,heating,24,clock_hours,,
street_duty,util-gas,,company,,gas,2,clock_hours,,
"""


def write_list(folder: Path, *, duties: str = DUTIES, matters: str = MATTERS,
               bodies: str = BODIES, encoding: str = "utf-8") -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("matters", matters), ("bodies", bodies), ("duties", duties)):
        (folder / f"{name}.csv").write_bytes(text.encode(encoding))
    return folder
