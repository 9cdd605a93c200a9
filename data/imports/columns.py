"""Which column of the user's file is which entity field: Chinese and English defaults, overridable.

Registers exported from other systems name their columns in many ways (名称, 企业名称, 单位名称…);
the defaults below cover the usual ones, compared without spaces, brackets and case. ``--columns
"名称=name,坐标X=lon"`` overrides or adds mappings (header=field). Unknown headers are ignored.
"""

from __future__ import annotations

import re

from geo.errors import BadRequest

REQUIRED = ("uscc", "name", "address", "category", "risk_class")
OPTIONAL = ("licence_no", "licence_valid_until", "legal_rep_name", "legal_rep_id", "contact_phone",
            "registered_on")
COORDINATES = ("lon", "lat")
FIELDS = (*REQUIRED, *OPTIONAL, *COORDINATES)
LABELS = {"uscc": "统一社会信用代码", "name": "名称", "address": "地址", "category": "类别",
          "risk_class": "风险等级", "licence_no": "许可证号", "licence_valid_until": "许可证有效期至",
          "legal_rep_name": "法定代表人", "legal_rep_id": "法定代表人身份证号",
          "contact_phone": "联系电话", "registered_on": "成立日期", "lon": "经度", "lat": "纬度"}

ALIASES: dict[str, tuple[str, ...]] = {
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "uscc", "creditcode",
             "unifiedsocialcreditcode"),
    "name": ("名称", "企业名称", "单位名称", "主体名称", "市场主体名称", "经营者名称", "name",
             "entityname"),
    "address": ("地址", "经营地址", "住所", "经营场所", "详细地址", "注册地址", "address"),
    "category": ("类别", "行业", "行业类别", "监管类别", "主体类别", "类别代码", "category",
                 "categorycode"),
    "risk_class": ("风险等级", "风险分级", "风险类别", "风险级别", "risk", "riskclass", "risklevel"),
    "licence_no": ("许可证号", "许可证编号", "许可证", "licence", "licenceno", "license", "licenseno"),
    "licence_valid_until": ("许可证有效期至", "有效期至", "许可证有效期", "licencevaliduntil",
                            "licensevaliduntil"),
    "legal_rep_name": ("法定代表人", "法人", "法人代表", "负责人", "legalrep", "legalrepname"),
    "legal_rep_id": ("法定代表人身份证号", "法人身份证号", "身份证号", "legalrepid"),
    "contact_phone": ("联系电话", "电话", "联系方式", "手机", "手机号", "phone", "contactphone"),
    "registered_on": ("成立日期", "登记日期", "注册日期", "registeredon", "registered"),
    "lon": ("经度", "lon", "lng", "longitude", "x", "坐标x", "gcj02经度", "wgs84经度"),
    "lat": ("纬度", "lat", "latitude", "y", "坐标y", "gcj02纬度", "wgs84纬度"),
}
_NOISE = re.compile(r"[\s_\-()（）\[\]【】:：/]+")


def normalise(header: str) -> str:
    """A header as compared with the aliases: no spaces, brackets or underscores, lower case."""
    return _NOISE.sub("", str(header)).lower()


_LOOKUP = {normalise(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def parse_mapping(text: str | None) -> dict[str, str]:
    """``"名称=name,坐标X=lon"`` → {header: field}; BadRequest naming a bad pair or unknown field."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (text or "").split(","))):
        header, sep, name = pair.partition("=")
        header, name = header.strip(), name.strip().lower()
        if not sep or not header or name not in FIELDS:
            raise BadRequest(f"列映射 {pair!r} 无效：应为 列名=字段，字段为 {', '.join(FIELDS)} / "
                             "invalid column mapping")
        mapping[header] = name
    return mapping


def resolve(headers: list[str], overrides: dict[str, str] | None = None,
            has_geometry: bool = False) -> dict[str, str]:
    """{field: header} for the file; BadRequest naming required fields no header provides."""
    found: dict[str, str] = {}
    for header in headers:
        name = (overrides or {}).get(header) or _LOOKUP.get(normalise(header))
        if name and name not in found:
            found[name] = header
    for header, name in (overrides or {}).items():
        if header not in headers:
            raise BadRequest(f"列映射中的列 {header!r} 不在文件中 / mapped column not in the file")
        found[name] = header
    missing = [f for f in REQUIRED if f not in found]
    if not has_geometry:
        missing += [f for f in COORDINATES if f not in found]
    if missing:
        names = "、".join(f"{LABELS[f]}({f})" for f in missing)
        raise BadRequest(f"文件缺少必需的列：{names}；可用 --columns 指定，如 \"企业名称=name\" / "
                         f"missing required columns: {', '.join(missing)}")
    return found
