"""What each import file holds: columns, their Chinese and English headers, their kinds.

The README's import section is generated from these specs (see docs), so they stay the truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Col:
    name: str  # the canonical (English) header
    zh: str  # the Chinese header officers' spreadsheets use
    kind: str  # str / int / bool / date / datetime / uscc / ric / plate / phone / enum
    required: bool = True
    aliases: tuple[str, ...] = ()  # other accepted headers
    choices: dict[str, str] = field(default_factory=dict)  # accepted value -> stored value
    doc: str = ""


BUSINESS_TYPES = {
    "passenger": "passenger", "客运": "passenger", "旅客运输": "passenger",
    "freight": "freight", "货运": "freight", "普通货运": "freight",
    "dangerous_goods": "dangerous_goods", "危货": "dangerous_goods", "危险货物运输": "dangerous_goods", "危险品": "dangerous_goods",
    "taxi": "taxi", "出租车": "taxi", "出租汽车": "taxi",
    "bus": "bus", "公交": "bus", "公共交通": "bus",
    "other": "other", "其他": "other",
}
VEHICLE_CLASSES = {
    "coach": "coach", "客车": "coach", "长途客车": "coach", "班线客车": "coach",
    "tourist_coach": "tourist_coach", "旅游客车": "tourist_coach",
    "bus": "bus", "公交车": "bus",
    "taxi": "taxi", "出租车": "taxi",
    "truck": "truck", "货车": "truck", "重型货车": "truck",
    "tanker": "tanker", "危货车": "tanker", "危险货物运输车": "tanker", "罐车": "tanker",
    "other": "other", "其他": "other",
}
RESPONSIBILITY = {
    "full": "full", "全部": "full", "全责": "full",
    "main": "main", "主要": "main", "主责": "main",
    "equal": "equal", "同等": "equal", "同责": "equal",
    "secondary": "secondary", "次要": "secondary", "次责": "secondary",
    "none": "none", "无责": "none", "无": "none",
}
VIOLATION_SOURCES = {
    "camera": "camera", "电子监控": "camera", "非现场": "camera",
    "onsite": "onsite", "现场": "onsite", "现场执法": "onsite",
    "trajectory": "trajectory", "轨迹": "trajectory", "轨迹倒查": "trajectory",
}
BOOLEANS = {"true": "1", "false": "0", "1": "1", "0": "0", "yes": "1", "no": "0", "是": "1", "否": "0", "y": "1", "n": "0"}


@dataclass(frozen=True)
class Spec:
    kind: str  # companies / vehicles / ...
    table: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # natural key (stored column names) for the upsert
    doc: str


SPECS: dict[str, Spec] = {
    "companies": Spec("companies", "company", (
        Col("uscc", "统一社会信用代码", "uscc", aliases=("credit_code",)),
        Col("name", "企业名称", "str", aliases=("company_name",)),
        Col("business_type", "业务类型", "enum", choices=BUSINESS_TYPES, aliases=("经营类型",)),
        Col("jurisdiction", "辖区", "str", aliases=("县市区",)),
    ), ("uscc",), "运输企业 transport companies"),
    "vehicles": Spec("vehicles", "vehicle", (
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("company_uscc", "企业统一社会信用代码", "uscc", aliases=("统一社会信用代码",)),
        Col("vehicle_class", "车辆类型", "enum", choices=VEHICLE_CLASSES),
        Col("active_from", "启用日期", "date", aliases=("注册日期",)),
        Col("active_to", "停用日期", "date", required=False, aliases=("注销日期",)),
    ), ("plate",), "车辆 vehicles"),
    "drivers": Spec("drivers", "driver", (
        Col("id_number", "身份证号", "ric", aliases=("身份证号码", "公民身份号码")),
        Col("name", "姓名", "str", aliases=("驾驶员姓名",)),
        Col("phone", "联系电话", "phone", required=False, aliases=("电话", "手机号")),
        Col("company_uscc", "企业统一社会信用代码", "uscc", aliases=("统一社会信用代码",)),
    ), ("id_number",), "驾驶员 drivers"),
    "assignments": Spec("assignments", "assignment", (
        Col("driver_id_number", "驾驶员身份证号", "ric", aliases=("身份证号",)),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("start", "开始时间", "datetime", aliases=("签到时间",)),
        Col("end", "结束时间", "datetime", required=False, aliases=("签退时间",)),
    ), ("driver_id", "vehicle_id", "start"), "排班/签到 driver-vehicle assignments"),
    "accidents": Spec("accidents", "accident", (
        Col("occurred_at", "事故时间", "datetime", aliases=("发生时间",)),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("driver_id_number", "驾驶员身份证号", "ric", required=False, aliases=("身份证号",)),
        Col("fatalities", "死亡人数", "int"),
        Col("injuries", "受伤人数", "int"),
        Col("responsibility", "事故责任", "enum", choices=RESPONSIBILITY, aliases=("责任",)),
        Col("dangerous_goods_release", "危险货物泄漏", "bool", required=False),
        Col("record_no", "事故编号", "str", required=False),
    ), ("vehicle_id", "occurred_at"), "交通事故 accidents"),
    "violations": Spec("violations", "violation", (
        Col("occurred_at", "违法时间", "datetime"),
        Col("plate", "号牌号码", "plate", aliases=("车牌号", "车牌")),
        Col("driver_id_number", "驾驶员身份证号", "ric", required=False, aliases=("身份证号",)),
        Col("code", "违法代码", "str", aliases=("违法行为代码",)),
        Col("points", "记分", "int", aliases=("违法记分",)),
        Col("source", "来源", "enum", choices=VIOLATION_SOURCES, aliases=("采集方式",)),
        Col("record_no", "违法编号", "str", required=False, aliases=("决定书编号",)),
    ), ("vehicle_id", "occurred_at", "code"), "交通违法 violations"),
}
