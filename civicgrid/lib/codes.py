"""Code rules for administrative divisions and grid cells (ORM-free).

GB/T 2260 gives 6 digits down to the county; the NBS statistics codes (GB/T 10114 rules) add 3 digits
for the township and 3 for the community. Grid cells use the community code + a 3-digit sequence
(15 digits, mirroring Beijing's DB11 unit-grid layout; a project choice, see docs/architecture.md).
Range rules are warnings, not errors: development zones carry virtual communities outside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEVEL_DIGITS = {"city": 6, "county": 6, "township": 9, "community": 12}
_DIGITS = re.compile(r"^\d+$")


@dataclass
class CodeCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def city_code_of(county_code: str) -> str:
    """The 6-digit GB/T 2260 code of the prefecture city that holds a county (430103 → 430100)."""
    return county_code[:4] + "00"


def check_division_code(code: str, level: str, parent_code: str | None = None) -> CodeCheck:
    result = CodeCheck()
    digits = LEVEL_DIGITS.get(level)
    if digits is None:
        result.errors.append(f"unknown level {level!r}")
        return result
    if not _DIGITS.match(code) or len(code) != digits:
        result.errors.append(f"a {level} code has {digits} digits, got {code!r}")
        return result
    if level == "city" and not code.endswith("00"):
        result.errors.append(f"a city code ends in 00, got {code}")
    if level == "county" and code.endswith("00"):
        result.errors.append(f"a county code does not end in 00, got {code}")
    if parent_code is not None:
        prefix = parent_code[:4] if level == "county" else parent_code
        if not code.startswith(prefix):
            result.errors.append(f"{code} does not lie under its parent {parent_code}")
    if level == "township":
        seq = int(code[6:9])
        if seq == 0 or seq >= 600:
            result.warnings.append(f"township sequence {seq:03d} is outside GB/T 10114's 001–599")
    if level == "community":
        seq = int(code[9:12])
        if seq == 0 or seq >= 400:
            result.warnings.append(f"community sequence {seq:03d} is outside GB/T 10114's 001–399")
    return result


def township_kind(code: str, name: str) -> str:
    """街道 / 镇 / 乡 / 政企合一 from the GB/T 10114 range, overridden by a clear name suffix."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) or name.endswith(suffix + "办事处"):
            return suffix
    seq = int(code[6:9])
    if seq < 100:
        return "街道"
    if seq < 200:
        return "镇"
    if seq < 400:
        return "乡"
    return "政企合一"


def community_kind(code: str, name: str) -> str:
    """社区 (居委会) or 村 (村委会)."""
    if "村" in name and "社区" not in name:
        return "村"
    if "社区" in name:
        return "社区"
    return "社区" if int(code[9:12]) < 200 else "村"


def short_community_name(name: str) -> str:
    """八角亭社区居委会 → 八角亭社区; 某某村村民委员会 → 某某村."""
    for suffix in ("居民委员会", "居委会", "村民委员会", "村委会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def grid_cell_code(community_code: str, sequence: int) -> str:
    if not (1 <= sequence <= 999):
        raise ValueError(f"grid sequence must be 1–999, got {sequence}")
    return f"{community_code}{sequence:03d}"


def check_grid_cell_code(code: str, community_code: str | None = None) -> CodeCheck:
    result = CodeCheck()
    if not _DIGITS.match(code) or len(code) != 15:
        result.errors.append(f"a grid cell code has 15 digits (community 12 + sequence 3), got {code!r}")
        return result
    if code.endswith("000"):
        result.errors.append(f"grid sequence 000 is not allowed in {code}")
    if community_code is not None and not code.startswith(community_code):
        result.errors.append(f"grid cell {code} does not lie under community {community_code}")
    return result
